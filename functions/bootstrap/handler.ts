/**
 * Wiring of the bootstrap custom resource. Nothing is read at module load: the configuration is
 * parsed and the clients built on the first invocation (inside the handler), so a bad param is
 * answered to CloudFormation as FAILED naming it, and a Delete still succeeds.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { type AwsClients, composeRotation, createAwsClients } from '#adapters/compose.ts';
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
    return { rotation, store: rotation.store, keys: rotation.keys };
  },
  put: httpsPut,
  logger,
});
