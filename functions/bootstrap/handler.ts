/** Wiring of the bootstrap custom resource: config and clients once at init. */
import { Logger } from '@aws-lambda-powertools/logger';
import { composeAws, createAwsClients, loadConfig } from '#adapters/compose.ts';
import { makeHandler } from './app.ts';
import { httpsPut } from './https-put.ts';

const config = loadConfig(process.env);
const ports = composeAws(config, createAwsClients());

export const handler = makeHandler({
  rotation: {
    ...ports,
    policy: config.policy,
    cluster: config.cluster,
    issuer: config.issuer,
    clock: () => new Date(),
  },
  store: ports.store,
  keys: ports.keys,
  put: httpsPut,
  logger: new Logger({ serviceName: 'irsa-anywhere-bootstrap', persistentKeys: { cluster: config.cluster } }),
});
