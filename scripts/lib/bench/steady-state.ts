/**
 * `steadyState`: the AWS calls one scheduled run of the rotate Lambda makes when there is nothing
 * to do. The real handler (`makeHandler` from functions/rotate/app.ts, wired with `composeRotation`
 * exactly as handler.ts does) runs against S3 and KMS clients mocked with aws-sdk-client-mock: the
 * tests' stateful fake, test/support/aws-fakes.ts (objects with ETags and conditional writes, KMS
 * keys with real key pairs).
 * A first run bootstraps the keyset; the next runs have nothing to do and are counted.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { composeRotation } from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';
import { makeHandler } from '../../../functions/rotate/app.ts';
// The bench runs from the repository: it reuses the tests' stateful S3/KMS fake.
import { FakeAws } from '../../../test/support/aws-fakes.ts';
import { lambdaContext } from '../../../test/support/lambda-context.ts';
import { median } from './stats.ts';

/** AWS calls of one steady-state run. */
export interface SteadyStateFigures {
  s3Get: number;
  s3Put: number;
  kmsCalls: number;
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

/** Counts the AWS calls of `runs` steady-state rotate runs and returns the median of each count. */
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
    aws.kmsMock.resetHistory();
    await handler({}, context());
    const count = (name: string) => aws.calls.filter((call) => call === name).length;
    // Every KMS call, mocked command or not.
    figures.push({
      s3Get: count('s3:GetObject'),
      s3Put: count('s3:PutObject'),
      kmsCalls: aws.kmsMock.calls().length,
    });
  }
  return {
    s3Get: median(figures.map((f) => f.s3Get)),
    s3Put: median(figures.map((f) => f.s3Put)),
    kmsCalls: median(figures.map((f) => f.kmsCalls)),
  };
}
