/**
 * The bootstrap Lambda: a CloudFormation custom resource that makes the stack usable the moment
 * deploy ends. Create: first active key and first publish. Update: apply configuration changes
 * (issuer, policy) with a rotation run. Delete: schedule deletion of the keys (KMS keeps them for
 * the deletion window, 7–30 days, so the removal can be cancelled) and never fails the delete.
 *
 * It ALWAYS answers CloudFormation (a custom resource that does not answer blocks the stack for an
 * hour): the work races a timer that stops it well before the Lambda timeout, and the answer is a
 * PUT to the pre-signed ResponseURL through an injected function.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { formatError, isIrsaError } from '#core/errors.ts';
import { activeKey } from '#core/planner.ts';
import type { KeyBackend, KeysetStore } from '#core/ports.ts';
import { type RotationDeps, runRotation } from '#core/rotation-run.ts';
import { type Authenticity, checkAuthenticity } from './authenticity.ts';

/** The physical id of the one bootstrap resource of a stack. */
export function physicalResourceId(cluster: string): string {
  return `irsa-anywhere-bootstrap-${cluster}`;
}

/** The fields of a CloudFormation custom resource request this handler uses. */
export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties?: Record<string, unknown>;
}

/** The body PUT to the ResponseURL. */
export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  NoEcho: false;
  Data: Record<string, string>;
}

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
  /** Stop working this long before the Lambda timeout, to leave time to answer (default 15 s). */
  safetyMarginMs?: number;
}

const MAX_REASON = 1_000;

/** The physical id answered when the configuration is unusable (so no cluster name is known). */
export const UNCONFIGURED_PHYSICAL_ID = 'irsa-anywhere-bootstrap-unconfigured';

class Timeout extends Error {}

function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return (
    (e.RequestType === 'Create' || e.RequestType === 'Update' || e.RequestType === 'Delete') &&
    typeof e.ResponseURL === 'string' &&
    typeof e.StackId === 'string' &&
    typeof e.RequestId === 'string' &&
    typeof e.LogicalResourceId === 'string'
  );
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`gave up after ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

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

  const destroyKeys = async (
    wiring: BootstrapWiring,
    event: CustomResourceEvent,
  ): Promise<Record<string, string>> => {
    const physicalId = physicalResourceId(wiring.rotation.cluster);
    if (event.PhysicalResourceId !== physicalId) {
      logger.warn('delete of a resource this stack does not own; nothing to do', {
        physicalId: event.PhysicalResourceId,
      });
      return {};
    }
    const scheduled = await destroyListedKeys(wiring);
    const data: Record<string, string> = { KeysScheduledForDeletion: String(scheduled) };
    if (wiring.sweep !== undefined) {
      // Whatever the keyset does not list (or could not be read): every key and wrapped object
      // tagged for this stack. Keys scheduled above are pending deletion and skipped.
      const swept = await wiring.sweep();
      for (const problem of swept.problems) logger.warn('stack sweep: left for a person', { problem });
      logger.info('stack swept', { keys: swept.keysScheduled, objects: swept.objectsDeleted });
      data.KeysSwept = String(swept.keysScheduled.length);
      data.ObjectsSwept = String(swept.objectsDeleted.length);
    }
    return data;
  };

  /** Schedules deletion of every key the keyset lists; returns how many were scheduled. */
  const destroyListedKeys = async (wiring: BootstrapWiring): Promise<number> => {
    let read: Awaited<ReturnType<KeysetStore['read']>>;
    try {
      read = await wiring.store.read();
    } catch (error) {
      logger.warn('keyset unreadable on delete; only the tag sweep can find its keys', {
        error: formatError(error),
      });
      return 0;
    }
    let scheduled = 0;
    for (const key of read?.keyset.keys ?? []) {
      try {
        await wiring.keys.destroy(key);
        scheduled += 1;
      } catch (error) {
        logger.warn('could not schedule key deletion; delete it by hand', {
          kid: key.kid,
          error: formatError(error),
        });
      }
    }
    logger.info('keys scheduled for deletion', { scheduled });
    return scheduled;
  };

  const run = async (event: unknown, context: Context): Promise<CustomResourceResponse | undefined> => {
    if (!isCustomResourceEvent(event)) {
      logger.error('not a CloudFormation custom resource event; nothing to answer');
      return undefined;
    }
    const budget = Math.max(1_000, context.getRemainingTimeInMillis() - (deps.safetyMarginMs ?? 15_000));
    // Until the configuration is known, a Create answers with a placeholder physical id.
    let physicalId = UNCONFIGURED_PHYSICAL_ID;
    const base = {
      PhysicalResourceId: event.PhysicalResourceId ?? physicalId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false as const,
    };
    let response: CustomResourceResponse;
    const verdict = await checkAuthenticity(event, deps.authenticity).catch((error: unknown) => ({
      ok: false as const,
      reason: `could not verify the event: ${formatError(error)}`,
      answerable: true,
    }));
    if (!verdict.ok) {
      logger.error('custom resource event refused; nothing changed', {
        requestType: event.RequestType,
        stackId: event.StackId,
        reason: verdict.reason,
      });
      if (!verdict.answerable) return undefined;
      // A refused Delete must not block a stack removal: the keys are simply kept.
      const status = event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED';
      response = { ...base, Status: status, Reason: `refused: ${verdict.reason}`, Data: {} };
      await deps.put(event.ResponseURL, JSON.stringify(response));
      return response;
    }
    try {
      logger.info('custom resource request', { requestType: event.RequestType });
      const wiring = load();
      physicalId = physicalResourceId(wiring.rotation.cluster);
      const work = event.RequestType === 'Delete' ? destroyKeys(wiring, event) : createOrUpdate(wiring);
      const data = await withDeadline(work, budget);
      const physical = event.RequestType === 'Create' ? physicalId : base.PhysicalResourceId;
      response = { ...base, PhysicalResourceId: physical, Status: 'SUCCESS', Reason: 'OK', Data: data };
    } catch (error) {
      const reason = formatError(error).slice(0, MAX_REASON);
      if (isIrsaError(error)) logger.error('bootstrap failed', { code: error.code, fix: error.fix, error });
      else logger.error('bootstrap failed', { error: error as Error });
      // A delete must never block the stack: report success and leave what is left to a person.
      const status = event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED';
      const physical = event.RequestType === 'Create' ? physicalId : base.PhysicalResourceId;
      response = { ...base, PhysicalResourceId: physical, Status: status, Reason: reason, Data: {} };
    }
    try {
      await deps.put(event.ResponseURL, JSON.stringify(response));
      logger.info('answered CloudFormation', { status: response.Status });
    } catch (error) {
      logger.error('could not answer CloudFormation', { error: formatError(error) });
      throw error;
    }
    return response;
  };

  return middy(run).use(injectLambdaContext(logger));
}
