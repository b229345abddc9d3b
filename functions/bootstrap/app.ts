/**
 * The bootstrap Lambda: a CloudFormation custom resource that makes the stack usable the moment
 * deploy ends. Create: first active key and first publish. Update: apply configuration changes
 * (issuer, policy) with a rotation run. Delete: schedule deletion of the keys (KMS keeps them for
 * the deletion window, 7–30 days, so the removal can be cancelled) and never fails the delete.
 *
 * It ALWAYS answers CloudFormation (a custom resource that does not answer blocks the stack for an
 * hour): middy races the work against the Lambda's remaining time minus a safety margin
 * (`timeoutEarlyInMillis`), and success, failure and that early timeout all end in a PUT to the
 * pre-signed ResponseURL through an injected function (the `respond` middleware).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import { formatError } from '#core/errors.ts';
import { activeKey } from '#core/planner.ts';
import type { KeyBackend, KeysetStore } from '#core/ports.ts';
import { type RotationDeps, runRotation } from '#core/rotation-run.ts';
import { logErrors } from '../middleware/log-errors.ts';
import { type Authenticity, checkAuthenticity } from './authenticity.ts';
import {
  type CustomResourceEvent,
  type CustomResourceResponse,
  isCustomResourceEvent,
  physicalResourceId,
  UNCONFIGURED_PHYSICAL_ID,
} from './custom-resource.ts';
import { tearDown } from './teardown.ts';

export {
  type CustomResourceEvent,
  type CustomResourceResponse,
  physicalResourceId,
  UNCONFIGURED_PHYSICAL_ID,
} from './custom-resource.ts';

/** PUTs a body to a pre-signed URL; rejects on a non-2xx answer. */
export type PutResponse = (url: string, body: string) => Promise<void>;

/** What the bootstrap works with, built from the stack's configuration. */
export interface BootstrapWiring {
  rotation: Omit<RotationDeps, 'onStep'>;
  store: KeysetStore;
  keys: KeyBackend;
  /** On Delete: finds and removes every key and wrapped object tagged for this stack. */
  sweep?: () => Promise<StackSweepReport>;
}

/** What a stack sweep did (functions/adapters/aws/stack-sweep.ts). */
export interface StackSweepReport {
  keysScheduled: string[];
  objectsDeleted: string[];
  problems: string[];
}

export interface BootstrapDeps {
  /**
   * Reads and validates the configuration and builds the wiring. Called inside the handler (and
   * kept once it succeeds), never at module load: a bad param must become a FAILED answer that
   * names it, not a Lambda that cannot start and a stack that waits for an answer.
   */
  load: () => BootstrapWiring;
  put: PutResponse;
  logger: Logger;
  /** Checks that an event is CloudFormation's, for this stack (see authenticity.ts). */
  authenticity: Authenticity;
  /** Stop working this long before the Lambda timeout, to leave time to answer (default 15 s; middy's `timeoutEarlyInMillis`). */
  safetyMarginMs?: number;
}

const MAX_REASON = 1_000;

/** The answer to CloudFormation could not be PUT (nothing else can be told; the invocation fails). */
class AnswerFailed extends Error {}

/** Builds the bootstrap handler around its dependencies. */
export function makeHandler(deps: BootstrapDeps) {
  const { logger } = deps;
  let loaded: BootstrapWiring | undefined;
  const load = (): BootstrapWiring => {
    loaded ??= deps.load();
    return loaded;
  };

  const createOrUpdate = async (wiring: BootstrapWiring): Promise<Record<string, string>> => {
    const report = await runRotation(wiring.rotation, {});
    for (const step of report.steps)
      logger.info('bootstrap step applied', { action: step.action.type, kid: step.kid });
    const repair = await wiring.keys.reconcile?.(report.keyset.keys);
    if (repair !== undefined && repair.repaired.length > 0) logger.info('key access repaired', { ...repair });
    const active = activeKey(report.keyset);
    return { ActiveKid: active?.kid ?? '', Issuer: wiring.rotation.issuer };
  };

  /** The answer's fixed fields; until the configuration is known, a placeholder physical id. */
  const baseOf = (event: CustomResourceEvent) => ({
    PhysicalResourceId: event.PhysicalResourceId ?? UNCONFIGURED_PHYSICAL_ID,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: false as const,
  });

  /** The physical id a Create answers with: the cluster's, or the placeholder without a configuration. */
  const createdPhysicalId = (): string => {
    try {
      return physicalResourceId(load().rotation.cluster);
    } catch {
      return UNCONFIGURED_PHYSICAL_ID;
    }
  };

  const answer = async (event: CustomResourceEvent, response: CustomResourceResponse) => {
    try {
      await deps.put(event.ResponseURL, JSON.stringify(response));
      logger.info('answered CloudFormation', { status: response.Status });
    } catch (error) {
      logger.error('could not answer CloudFormation', { error: formatError(error) });
      throw new AnswerFailed(formatError(error), { cause: error });
    }
    return response;
  };

  /**
   * before: only CloudFormation's events for this stack are worked on. Anything else is answered
   * (refused) or, when it cannot be, dropped; either way the work never starts.
   */
  const screen: MiddlewareObj<unknown, CustomResourceResponse | undefined> = {
    before: async (request) => {
      const event = request.event;
      if (!isCustomResourceEvent(event)) {
        logger.error('not a CloudFormation custom resource event; nothing to answer');
        request.earlyResponse = undefined;
        return;
      }
      const verdict = await checkAuthenticity(event, deps.authenticity).catch((error: unknown) => ({
        ok: false as const,
        reason: `could not verify the event: ${formatError(error)}`,
        answerable: true,
      }));
      if (verdict.ok) return;
      logger.error('custom resource event refused; nothing changed', {
        requestType: event.RequestType,
        stackId: event.StackId,
        reason: verdict.reason,
      });
      if (!verdict.answerable) {
        request.earlyResponse = undefined;
        return;
      }
      // A refused Delete must not block a stack removal: the keys are simply kept.
      const status = event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED';
      const response = { ...baseOf(event), Status: status, Reason: `refused: ${verdict.reason}`, Data: {} };
      request.earlyResponse = await answer(event, response as CustomResourceResponse);
    },
  };

  /**
   * after: SUCCESS with the work's data. onError (the work failed, or middy's early timeout fired):
   * FAILED with the reason, except that a Delete never blocks the stack (SUCCESS, the rest is left
   * to a person). Either way CloudFormation gets its answer before the Lambda is stopped.
   */
  const respond: MiddlewareObj<CustomResourceEvent, CustomResourceResponse | undefined> = {
    after: async (request) => {
      const event = request.event;
      const data = (request.response as unknown as Record<string, string> | undefined) ?? {};
      const base = baseOf(event);
      const physical = event.RequestType === 'Create' ? createdPhysicalId() : base.PhysicalResourceId;
      request.response = await answer(event, {
        ...base,
        PhysicalResourceId: physical,
        Status: 'SUCCESS',
        Reason: 'OK',
        Data: data,
      });
    },
    onError: async (request) => {
      // The answer itself could not be sent: nothing more to say; the error is rethrown.
      if (request.error instanceof AnswerFailed) return;
      const event = request.event;
      const base = baseOf(event);
      const status = event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED';
      const physical = event.RequestType === 'Create' ? createdPhysicalId() : base.PhysicalResourceId;
      const reason = formatError(request.error).slice(0, MAX_REASON);
      request.response = await answer(event, {
        ...base,
        PhysicalResourceId: physical,
        Status: status,
        Reason: reason,
        Data: {},
      });
    },
  };

  /** The work, raced by middy against the Lambda's remaining time minus the safety margin. */
  const work = async (input: unknown): Promise<Record<string, string>> => {
    const event = input as CustomResourceEvent; // `screen` let only custom resource events through
    logger.info('custom resource request', { requestType: event.RequestType });
    const wiring = load();
    return event.RequestType === 'Delete' ? tearDown(wiring, event, logger) : createOrUpdate(wiring);
  };

  const marginMs = deps.safetyMarginMs ?? 15_000;
  return (
    middy(work, {
      timeoutEarlyInMillis: marginMs,
      timeoutEarlyResponse: () => {
        throw new Error(
          `gave up ${marginMs / 1000} s before the Lambda timeout, to answer CloudFormation in time`,
        );
      },
    })
      .use(injectLambdaContext(logger))
      .use(screen as MiddlewareObj)
      .use(respond as MiddlewareObj)
      // Last, so its onError runs first: the failure is logged before it is answered.
      .use(logErrors({ logger, message: 'bootstrap failed' }))
  );
}
