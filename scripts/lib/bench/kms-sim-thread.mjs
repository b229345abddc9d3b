/**
 * The simulated KMS's own machine (see simulated-kms.ts): a worker thread that makes the real
 * signatures at the lowest CPU priority. Linux nice values belong to threads, so this lowers only
 * this thread; the signer's event loop in the same process keeps its normal priority.
 * Messages: `{ id, kid, input, key? }`, where `key` (once per kid) is the argument `crypto.sign`
 * takes for the kid's algorithm (software-keys.ts `signingKey`), answered with `{ id, signature }`
 * or `{ id, error }`; `{ id, type: 'priority' }` answers this thread's nice value.
 */
import { sign } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

try {
  setPriority(workerData.nice);
} catch {
  // A sandbox that refuses setpriority: sign at the inherited priority (`priority` reports which).
}
const keys = new Map();

parentPort.on('message', (message) => {
  if (message.type === 'priority') {
    parentPort.postMessage({ id: message.id, priority: getPriority() });
    return;
  }
  try {
    if (message.key !== undefined) keys.set(message.kid, message.key);
    const key = keys.get(message.kid);
    if (key === undefined) throw new Error(`no key for kid ${message.kid}`);
    const signature = sign('sha256', message.input, key);
    parentPort.postMessage({ id: message.id, signature });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
