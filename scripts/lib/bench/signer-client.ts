/**
 * The benchmark's signer client, run in its own process (as kube-apiserver is): the parent sends
 * `{ type: 'run', ... }` over the IPC channel and gets back `{ type: 'result', result }` with the
 * loop's figures; `{ type: 'close' }` ends it. Stdout is never used (the parent may own it for JSON).
 */
import { connectSigner, type SignerClient } from '#scripts/lib/signer/client.ts';
import { benchClaims } from './signer-claims.ts';
import { timedLoop } from './stats.ts';

/** A request from the parent. */
export type ClientRequest =
  | { type: 'run'; target: string; concurrency: number; minMs: number; minCalls: number }
  | { type: 'close' };

const claims = Array.from({ length: 32 }, (_, i) => benchClaims(i));
let client: SignerClient | undefined;
let target: string | undefined;
let next = 0;

async function handle(request: ClientRequest): Promise<void> {
  if (request.type === 'close') {
    client?.close();
    process.disconnect?.();
    return;
  }
  if (client === undefined || target !== request.target) {
    client?.close();
    client = connectSigner(request.target);
    target = request.target;
  }
  const connected = client;
  const result = await timedLoop(
    async () => {
      next = (next + 1) % claims.length;
      await connected.sign(claims[next] as string);
    },
    { minMs: request.minMs, minCalls: request.minCalls, concurrency: request.concurrency },
  );
  process.send?.({ type: 'result', result });
}

process.on('message', (message: ClientRequest) => {
  handle(message).catch((error: unknown) => {
    process.send?.({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  });
});
