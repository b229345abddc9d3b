/**
 * A benchmark that dies without closing its workers must not leave servers behind: each worker
 * notices its parent's channel close and exits.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const worker = new URL('../../../../scripts/lib/bench/worker.ts', import.meta.url).href;
const host = new URL('../../../../scripts/lib/bench/signer-host.ts', import.meta.url).href;
const repo = fileURLToPath(new URL('../../../../', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let dir: string | undefined;
const orphans: number[] = [];
afterEach(async () => {
  for (const pid of orphans.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('bench workers', () => {
  it('exit when the benchmark that forked them crashes without closing them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'irsa-bench-worker-'));
    const crasher = join(dir, 'crash.mjs');
    // Starts a floor server in a worker, prints the worker's pid, then dies without a word to it.
    await writeFile(
      crasher,
      `const { forkWorker } = await import(${JSON.stringify(worker)});
const w = forkWorker('floor', new URL(${JSON.stringify(host)}));
await w.request({ type: 'start', mode: 'floor', keySpec: 'ECC_NIST_P256' });
process.stdout.write(String(w.pid));
process.exit(1);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', crasher], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const pid = Number(out);
    expect(pid).toBeGreaterThan(0);
    orphans.push(pid);
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(pid)).toBe(false);
  }, 60_000);
});
