/**
 * The `kmsSim` benchmark's backend: a stand-in for AWS KMS. Each Sign waits 8 ± 2 ms (a KMS
 * round trip) and then makes the real signature with the local key.
 *
 * In production KMS signs on AWS's machines, not on the node; here its signatures must run on the
 * same 2 cores as the signer and the client. They run in one worker thread at nice 19
 * (kms-sim-thread.mjs), so they take only CPU that the signer's event loop and the client leave,
 * as a remote service's would. At normal priority they queued the signer's event loop behind up to
 * four RSA signatures at a time, which is a cost of the simulation, not of the signer. Whatever
 * the wait for that thread costs is measured as the backend's own latency, never as the signer's.
 */
import type { KeyObject, SignKeyObjectInput } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { type LocalKeys, signingKey } from '#adapters/local/software-keys.ts';
import type { KeyRecord } from '#core/keyset.ts';
import type { SigningBackend } from '#core/ports.ts';

/** The simulated KMS round trip: uniform in [min, max] milliseconds. */
export const KMS_SIM_DELAY_MS = { min: 6, max: 10 } as const;
/** The nice value of the thread that makes the simulated KMS's signatures (the lowest priority). */
export const KMS_SIM_NICE = 19;

type Answer = { id: number; signature?: Uint8Array; error?: string; priority?: number };

/** A KMS-like backend: the network wait, then the real signature on a lowest-priority thread. */
export class SimulatedKms implements SigningBackend {
  /** Each Sign's latency as the backend sees it (wait + signature), in milliseconds. */
  readonly latencies: number[] = [];
  private readonly thread: Worker;
  private readonly pending = new Map<number, (answer: Answer) => void>();
  private readonly keysSent = new Set<string>();
  private nextId = 0;

  /** @param keys where the private keys come from (the signer's own local backend). */
  constructor(
    private readonly keys: LocalKeys,
    nice: number = KMS_SIM_NICE,
  ) {
    this.thread = new Worker(new URL('./kms-sim-thread.mjs', import.meta.url), { workerData: { nice } });
    this.thread.on('message', (answer: Answer) => {
      const settle = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      settle?.(answer);
    });
    // A thread that dies answers every call in flight with its error instead of leaving it hanging.
    const fail = (reason: string) => {
      for (const [id, settle] of this.pending) settle({ id, error: reason });
      this.pending.clear();
    };
    this.thread.on('error', (error) => fail(error.message));
    this.thread.on('exit', (code) => fail(`signing thread exited (code ${code})`));
    this.thread.unref();
  }

  async sign(record: KeyRecord, input: Uint8Array): Promise<Uint8Array> {
    const started = performance.now();
    const { min, max } = KMS_SIM_DELAY_MS;
    await new Promise((resolve) => setTimeout(resolve, min + Math.random() * (max - min)));
    const privateKey = await this.keys.privateKey(record);
    const answer = await this.ask({
      kid: record.kid,
      input,
      key: this.keyToSend(record, privateKey),
    });
    if (answer.signature === undefined) throw new Error(`simulated KMS: ${answer.error ?? 'no signature'}`);
    this.latencies.push(performance.now() - started);
    return new Uint8Array(answer.signature);
  }

  /** The signing thread's nice value, as that thread reads it. */
  async priority(): Promise<number> {
    return (await this.ask({ type: 'priority' })).priority ?? Number.NaN;
  }

  /** Stops the signing thread. */
  async close(): Promise<void> {
    await this.thread.terminate();
  }

  /** The signing key goes to the thread once per kid (in `crypto.sign`'s form); later calls name the kid only. */
  private keyToSend(record: KeyRecord, privateKey: KeyObject): KeyObject | SignKeyObjectInput | undefined {
    if (this.keysSent.has(record.kid)) return undefined;
    this.keysSent.add(record.kid);
    return signingKey(privateKey, record.alg);
  }

  private ask(message: Record<string, unknown>): Promise<Answer> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.thread.postMessage({ ...message, id });
    });
  }
}
