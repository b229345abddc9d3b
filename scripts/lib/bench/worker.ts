/**
 * The benchmark's child processes (signer hosts, the gRPC client, the fake KMS): a TypeScript
 * module forked with tsx and driven by request/answer messages over the IPC channel. Each process
 * runs in its own node, as `signer serve` and kube-apiserver do, so its CPU time is its own.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { IrsaError } from '#core/errors.ts';

/** A message to a worker: a type and its fields; `id` is added by {@link Worker.request}. */
export interface WorkerRequest {
  type: string;
  [field: string]: unknown;
}

/** A worker's answer: `{ id, ok: true, value }` or `{ id, ok: false, message }`. */
export type WorkerAnswer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string };

/** A forked worker. */
export interface Worker {
  pid: number;
  /** Sends `request` and resolves with the worker's answer value (rejects with its error). */
  request<T>(request: WorkerRequest): Promise<T>;
  /** Asks the worker to stop (`{ type: 'close' }`), then kills it if it has not exited within 5 s. */
  close(): Promise<void>;
}

function failed(name: string, problem: string): IrsaError {
  return new IrsaError(
    'BENCH_WORKER_FAILED',
    `The benchmark's ${name} process ${problem}.`,
    'Run the benchmark again; if it persists, run the signer tests (test/scripts/lib/signer) and `npx vitest run test/scripts/lib/bench`.',
  );
}

/**
 * Forks `moduleUrl` (a `.ts` file next to this one) under tsx. Its stdout goes to our stderr: with
 * `--json` our stdout holds only the report. `execArgv` adds node flags (e.g. `--cpu-prof`).
 */
export function forkWorker(name: string, moduleUrl: URL, execArgv: readonly string[] = []): Worker {
  const child: ChildProcess = fork(moduleUrl, [], {
    execArgv: ['--import', import.meta.resolve('tsx'), ...execArgv],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout?.pipe(process.stderr);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      for (const waiter of pending.values()) waiter.reject(failed(name, `exited (code ${code})`));
      pending.clear();
      resolve();
    }),
  );
  child.on('message', (answer: WorkerAnswer) => {
    const waiter = pending.get(answer.id);
    if (waiter === undefined) return;
    pending.delete(answer.id);
    if (answer.ok) waiter.resolve(answer.value);
    else waiter.reject(failed(name, `failed: ${answer.message}`));
  });
  return {
    pid: child.pid ?? -1,
    request<T>(request: WorkerRequest): Promise<T> {
      if (exitCode !== undefined) return Promise.reject(failed(name, `exited (code ${exitCode})`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: (value) => resolve(value as T), reject });
        child.send({ ...request, id });
      });
    },
    async close() {
      if (exitCode !== undefined) return;
      if (child.connected) child.send({ type: 'close', id: 0 });
      const timer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The worker side: answers each request with `handle(request)`'s value; `{ type: 'close' }` runs
 * `onClose` and disconnects, which lets the process exit once its handles are closed. A parent
 * that goes away without asking (a crashed benchmark) closes the channel: the worker then runs
 * `onClose` and exits, so no server is left listening behind it.
 */
export function serveRequests(
  handle: (request: WorkerRequest) => Promise<unknown>,
  onClose: () => Promise<void> = async () => {},
): void {
  let closing = false;
  process.on('disconnect', () => {
    if (closing) return;
    closing = true;
    onClose().finally(() => process.exit(0));
  });
  process.on('message', (message: WorkerRequest & { id: number }) => {
    if (message.type === 'close') {
      closing = true;
      onClose().finally(() => {
        if (process.connected) process.disconnect();
      });
      return;
    }
    handle(message).then(
      (value) => process.send?.({ id: message.id, ok: true, value } satisfies WorkerAnswer),
      (error: unknown) =>
        process.send?.({
          id: message.id,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
        } satisfies WorkerAnswer),
    );
  });
}

/** CPU time (user + system) of this process in milliseconds. */
export function cpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}
