/**
 * Wiring of the bootstrap custom resource. Nothing is read at module load: the configuration is
 * parsed and the clients built on the first invocation (inside the handler), so a bad param is
 * answered to CloudFormation as FAILED naming it, and a Delete still succeeds.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  type AwsClients,
  composeRotation,
  composeSweep,
  createAwsClients,
  stackStatusReader,
} from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';
import { makeHandler } from './app.ts';
import { httpsPut } from './https-put.ts';

const logger = new Logger({ serviceName: 'irsa-anywhere-bootstrap' });
let clients: AwsClients | undefined;

export const handler = makeHandler({
  load: () => {
    const config = parseConfig(process.env);
    logger.appendPersistentKeys({ cluster: config.cluster });
    clients ??= createAwsClients();
    const rotation = composeRotation(config, clients);
    const sweep = composeSweep(config, clients);
    return {
      rotation,
      store: rotation.store,
      keys: rotation.keys,
      ...(sweep === undefined ? {} : { sweep }),
    };
  },
  put: httpsPut,
  authenticity: {
    // Read per event, before (and whatever) the rest of the configuration says: the check must
    // also run when a bad param keeps the configuration from loading. parseConfig validates it.
    get stackId() {
      const raw = process.env.STACK_ID?.trim();
      return raw === undefined || raw === '' ? undefined : raw;
    },
    stackStatus: stackStatusReader(),
  },
  logger,
});
