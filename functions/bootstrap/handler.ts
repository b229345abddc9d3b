/** Wiring of the bootstrap custom resource: config and clients once at init. */
import { Logger } from '@aws-lambda-powertools/logger';
import { composeRotation, createAwsClients, loadConfig, stackStatusReader } from '#adapters/compose.ts';
import { makeHandler } from './app.ts';
import { httpsPut } from './https-put.ts';

const config = loadConfig(process.env);
const rotation = composeRotation(config, createAwsClients());

export const handler = makeHandler({
  rotation,
  store: rotation.store,
  keys: rotation.keys,
  put: httpsPut,
  authenticity: { stackId: config.stackId, stackStatus: stackStatusReader() },
  logger: new Logger({ serviceName: 'irsa-anywhere-bootstrap', persistentKeys: { cluster: config.cluster } }),
});
