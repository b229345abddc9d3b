/**
 * Real deadlines for the AWS SDK clients of the CLI and the node agents (signer, key-sync,
 * doctor, status/rotate --stack, audit). In @smithy/node-http-handler 4.x a bare `requestTimeout`
 * only logs a warning; `throwOnRequestTimeout: true` makes a hung call fail, so a stalled KMS or S3
 * front end gives one clear error instead of a command that never returns. Every client gets
 * them through the CLI's factory (aws-clients.ts). The Lambdas have their own budget in
 * functions/adapters/compose.ts.
 */

/** Per-attempt deadlines of the CLI's clients. */
export const CLI_AWS_DEADLINES = { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000 } as const;

/** The `requestHandler` option that makes each attempt fail after `requestTimeoutMs`. */
export function cliRequestHandler(requestTimeoutMs: number = CLI_AWS_DEADLINES.requestTimeoutMs) {
  return {
    connectionTimeout: Math.min(CLI_AWS_DEADLINES.connectionTimeoutMs, requestTimeoutMs),
    requestTimeout: requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}
