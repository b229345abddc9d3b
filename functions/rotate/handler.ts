/** Wiring of the rotate Lambda: config and clients once at init, then {@link makeHandler}. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { composeInvalidator, composeRotation, createAwsClients, loadConfig } from '#adapters/compose.ts';
import { METRICS_NAMESPACE, makeHandler, ROTATE_SERVICE } from './app.ts';

const config = loadConfig(process.env);
const clients = createAwsClients();
const invalidateDocuments = composeInvalidator(config, clients);

export const handler = makeHandler({
  rotation: composeRotation(config, clients),
  logger: new Logger({ serviceName: ROTATE_SERVICE, persistentKeys: { cluster: config.cluster } }),
  metrics: new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: ROTATE_SERVICE,
    defaultDimensions: { cluster: config.cluster },
  }),
  ...(invalidateDocuments === undefined ? {} : { invalidateDocuments }),
});
