/**
 * The bootstrap's Delete: schedule deletion of every key the keyset lists, then (when the stack
 * has one) sweep whatever is tagged for the stack and the keyset did not list. Nothing here
 * throws for a key it cannot remove: a stack removal is never blocked; what is left is logged for
 * a person.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { formatError } from '#core/errors.ts';
import type { KeysetStore } from '#core/ports.ts';
import type { BootstrapWiring } from './app.ts';
import { type CustomResourceEvent, physicalResourceId } from './custom-resource.ts';

/** Works a Delete event for this stack's resource; returns the answer's data. */
export async function tearDown(
  wiring: BootstrapWiring,
  event: CustomResourceEvent,
  logger: Logger,
): Promise<Record<string, string>> {
  const physicalId = physicalResourceId(wiring.rotation.cluster);
  if (event.PhysicalResourceId !== physicalId) {
    logger.warn('delete of a resource this stack does not own; nothing to do', {
      physicalId: event.PhysicalResourceId,
    });
    return {};
  }
  const scheduled = await destroyListedKeys(wiring, logger);
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
}

/** Schedules deletion of every key the keyset lists; returns how many were scheduled. */
async function destroyListedKeys(wiring: BootstrapWiring, logger: Logger): Promise<number> {
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
}
