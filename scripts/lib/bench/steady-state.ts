/**
 * `steadyState`: the AWS calls one scheduled run of the rotate Lambda makes when there is nothing
 * to do. The real handler (`makeHandler` from functions/rotate/app.ts, wired with `composeRotation`
 * exactly as handler.ts does) runs against S3 and KMS clients mocked with aws-sdk-client-mock: the
 * tests' stateful fake, test/support/aws-fakes.ts (objects with ETags and conditional writes, KMS
 * keys with real key pairs).
 * A first run bootstraps the keyset; the next runs have nothing to do and their S3 and KMS
 * requests are counted: all of them, and the writes among them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { composeRotation } from '#adapters/compose.ts';
import { lambdaContext } from '#adapters/memory/lambda-context.ts';
// The bench runs from the repository: it reuses the tests' stateful S3/KMS fake.
import { FakeAws } from '#adapters/memory/memory-aws.ts';
import { parseConfig } from '#core/config.ts';
import { makeHandler } from '../../../functions/rotate/app.ts';
import type { SteadyStateFigures } from './report.ts';
import { median } from './stats.ts';

/**
 * Whether a request changes something: any S3 or KMS operation that is not a read (Get, Head,
 * List, Describe). An unknown operation counts as a write: the target must not pass by omission.
 */
export function isWrite(name: string): boolean {
  const operation = name.slice(name.indexOf(':') + 1);
  return !/^(Get|Head|List|Describe)/.test(operation);
}

/** Counts requests and writes in one run's call log (`s3:GetObject`, `kms:Sign`, ...). */
export function countRequests(calls: readonly string[]): SteadyStateFigures {
  const byName: Record<string, number> = {};
  for (const name of calls) byName[name] = (byName[name] ?? 0) + 1;
  return { requests: calls.length, writes: calls.filter(isWrite).length, byName };
}

const ENV = {
  CLUSTER_NAME: 'bench',
  ISSUER_URL: 'https://oidc.example.com/bench',
  STATE_BUCKET: 'bench-state',
  PUBLIC_BUCKET: 'bench-public',
  KEY_MODE: 'kms',
};

/**
 * Runs `body` with Powertools metrics disabled: EMF goes straight to stdout, which --json
 * reserves, and `singleMetric()` builds new instances that read the variable again.
 */
async function withMetricsDisabled<T>(body: () => Promise<T>): Promise<T> {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return await body();
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

/** Counts the S3 and KMS requests of `runs` steady-state rotate runs (the median run's). */
export async function benchSteadyState(options: { runs: number }): Promise<SteadyStateFigures> {
  return withMetricsDisabled(() => countSteadyRuns(options.runs));
}

async function countSteadyRuns(runs: number): Promise<SteadyStateFigures> {
  const aws = new FakeAws().process();
  const config = parseConfig(ENV);
  const handler = makeHandler({
    rotation: composeRotation(config, aws),
    logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'IrsaAnywhereBench', serviceName: 'bench' }),
  });
  const context = () => lambdaContext({ functionName: 'irsa-anywhere-bench-rotate' });
  await handler({}, context()); // bootstrap: first key, first publish
  const figures: SteadyStateFigures[] = [];
  for (let run = 0; run < runs; run += 1) {
    aws.calls.length = 0;
    aws.kmsRouter.seen.length = 0;
    aws.s3Router.seen.length = 0;
    await handler({}, context());
    // The fake logs the commands it implements; the routers see every command, even one the fake
    // does not implement (which would otherwise go uncounted).
    const unlogged = (service: 's3' | 'kms', total: number) =>
      Array.from(
        { length: total - aws.calls.filter((name) => name.startsWith(`${service}:`)).length },
        () => `${service}:(unknown)`,
      );
    figures.push(
      countRequests([
        ...aws.calls,
        ...unlogged('s3', aws.s3Router.seen.length),
        ...unlogged('kms', aws.kmsRouter.seen.length),
      ]),
    );
  }
  // Every run has nothing to do, so every run should be the same; the median run is reported.
  const middle = median(figures.map((f) => f.requests));
  return figures.find((f) => f.requests === middle) ?? (figures[0] as SteadyStateFigures);
}
