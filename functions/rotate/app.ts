/**
 * The rotate Lambda: read the keyset, plan, apply step by step, publish (all in `runRotation`).
 * Runs on an EventBridge schedule; operators may invoke it with `{ "now": true }` (emergency
 * rotation) or `{ "revoke": "<kid>" }` (revoke a compromised key). Emits a metric per applied
 * step and the age of the active key; on failure logs the error structured and rethrows, so the
 * Lambda `Errors` metric and the alarm fire.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { activeKey, nextTransition } from '#core/planner.ts';
import { parseRotatePayload } from '#core/rotate-payload.ts';
import {
  type RotationDeps,
  type RotationStep,
  type RotationWarning,
  runRotation,
} from '#core/rotation-run.ts';
import { logErrors } from '../middleware/log-errors.ts';

/** CloudWatch namespace of all metrics (the alarm in infra/ matches on it). */
export const METRICS_NAMESPACE = 'IrsaAnywhere';
/** Powertools service name of the rotate function (a metric dimension). */
export const ROTATE_SERVICE = 'irsa-anywhere-rotate';
/** Metric names (custom metrics: a step per applied action, errors, and the active key's age). */
export const METRIC_STEP = 'RotationStep';
export const METRIC_ERROR = 'RotationError';
export const METRIC_ACTIVE_KEY_AGE = 'ActiveKeyAgeSeconds';
/** A live public document differed from what the keyset last published (alarmed in infra/alarms.yml). */
export const METRIC_DOCUMENT_DRIFT = 'PublishedDocumentDrift';
/** keyset.json was not the document the functions last wrote (alarmed in infra/alarms.yml). */
export const METRIC_KEYSET_UNEXPECTED = 'KeysetUnexpectedWrite';

/** The metric each warning counts in (none for `journal-not-recorded`: it is only logged). */
const WARNING_METRICS: Readonly<Record<RotationWarning['type'], string | undefined>> = {
  'published-document-drift': METRIC_DOCUMENT_DRIFT,
  'keyset-unexpected-write': METRIC_KEYSET_UNEXPECTED,
  'journal-not-recorded': undefined,
};

/** What each warning means, for the log line. */
const WARNING_MESSAGES: Readonly<Record<RotationWarning['type'], string>> = {
  'published-document-drift':
    'published documents differ from what the keyset last published: overwritten outside this stack or by a stale run; republishing',
  'keyset-unexpected-write':
    'keyset.json is not the document the rotation functions last wrote: check the state bucket versions and CloudTrail for who wrote it',
  'journal-not-recorded':
    'could not record the keyset journal; the next run may report keyset.json as unexpected',
};

/** Turns an invocation event into a rotation request (the one payload type: core/rotate-payload.ts). */
export const parseRotateEvent = parseRotatePayload;

/** What rotate needs: the rotation ports and settings, and its logger and metrics. */
export interface RotateDeps {
  rotation: Omit<RotationDeps, 'onStep' | 'onWarning'>;
  logger: Logger;
  metrics: Metrics;
  /**
   * After a revoke: invalidate the public documents in this stack's CloudFront distribution, so
   * the revoked key leaves the edge caches at once (optional: without it, after max-age).
   */
  invalidateDocuments?: (reference: string) => Promise<string | undefined>;
}

/** The summary a run returns to its invoker (the CLI's `rotate --stack`). */
export interface RotateResult {
  steps: Array<{ action: string; kid?: string; reason: string }>;
  wrote: boolean;
  published: boolean;
  activeKid: string | null;
  nextTransition: { at: string; description: string } | null;
}

function stepKid(step: RotationStep): string | undefined {
  return step.kid ?? ('kid' in step.action ? step.action.kid : undefined);
}

/** Builds the rotate handler around its dependencies (wired in handler.ts, faked in tests). */
export function makeHandler(deps: RotateDeps) {
  const { logger, metrics } = deps;
  const onStep = (step: RotationStep): void => {
    const kid = stepKid(step);
    logger.info('rotation step applied', { action: step.action.type, kid, reason: step.action.reason });
    const single = metrics.singleMetric();
    single.addDimension('action', step.action.type);
    single.addMetric(METRIC_STEP, MetricUnit.Count, 1);
  };

  const onWarning = (warning: RotationWarning): void => {
    const { type, ...detail } = warning;
    if (type === 'journal-not-recorded') logger.warn(WARNING_MESSAGES[type], { warning: type, ...detail });
    else logger.error(WARNING_MESSAGES[type], { warning: type, ...detail });
    const metric = WARNING_METRICS[type];
    // Emitted now (not with the run's other metrics): a run that fails later must still count it.
    if (metric !== undefined) {
      const single = metrics.singleMetric();
      single.addMetric(metric, MetricUnit.Count, 1);
    }
  };

  const invalidate = async (kid: string): Promise<void> => {
    if (deps.invalidateDocuments === undefined) return;
    try {
      const id = await deps.invalidateDocuments(`revoke-${kid}-${deps.rotation.clock().getTime()}`);
      logger.info('edge caches invalidated after the revoke', { kid, invalidationId: id });
    } catch (error) {
      // The revoke itself is done; the edge only lags until max-age. Visible, but not a failure.
      logger.error('could not invalidate the edge caches after the revoke', { kid, error: error as Error });
    }
  };

  const rotate = async (event: unknown): Promise<RotateResult> => {
    const request = parseRotateEvent(event);
    logger.info('rotation run', { request });
    const report = await runRotation({ ...deps.rotation, onStep, onWarning }, request);
    // Keys of an older release get the current key policy and tags (once per container).
    const repair = await deps.rotation.keys.reconcile?.(report.keyset.keys);
    if (repair !== undefined && repair.repaired.length > 0) logger.info('key access repaired', { ...repair });
    if (request.revoke !== undefined && report.published) await invalidate(request.revoke);
    const now = deps.rotation.clock();
    const active = activeKey(report.keyset);
    if (active?.activatedAt !== undefined) {
      const age = Math.max(0, Math.round((now.getTime() - Date.parse(active.activatedAt)) / 1000));
      metrics.addMetric(METRIC_ACTIVE_KEY_AGE, MetricUnit.Seconds, age);
    }
    const next = nextTransition(report.keyset, deps.rotation.policy, now);
    const result: RotateResult = {
      steps: report.steps.map((step) => {
        const kid = stepKid(step);
        return {
          action: step.action.type,
          reason: step.action.reason,
          ...(kid === undefined ? {} : { kid }),
        };
      }),
      wrote: report.wrote,
      published: report.published,
      activeKid: active?.kid ?? null,
      nextTransition: next === null ? null : { at: next.at.toISOString(), description: next.description },
    };
    logger.info('rotation done', { ...result });
    return result;
  };

  return (
    middy(rotate)
      .use(injectLambdaContext(logger))
      // No cold-start or run-count metric: AWS/Lambda already has Invocations, and every custom
      // metric series costs money each month.
      .use(logMetrics(metrics))
      // Last, so its onError runs first: the error is logged and counted before logMetrics flushes.
      .use(
        logErrors({
          logger,
          message: 'rotation failed',
          onFailure: () => metrics.addMetric(METRIC_ERROR, MetricUnit.Count, 1),
        }),
      )
  );
}
