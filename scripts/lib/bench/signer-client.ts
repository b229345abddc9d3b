/**
 * The benchmark's signer client, run in its own process (as kube-apiserver is) and driven over IPC
 * (see worker.ts): `closed` runs a closed loop (N calls in flight, each sent when one completes);
 * `open` sends at a fixed rate whatever the answers do, as independent pods starting would.
 * Calls go through the lean HTTP/2 client (lean-signer-client.ts), which leaves more of the
 * machine's CPU to the signer under test than grpc-js's client does. Stdout is never used (the
 * parent may own it for JSON).
 */
import { performance } from 'node:perf_hooks';
import { connectLeanSigner, type LeanSignerClient } from './lean-signer-client.ts';
import { benchClaims } from './signer-claims.ts';
import { type OpenLoopResult, openLoopSchedule, summarizeLoop, timedLoop } from './stats.ts';
import { serveRequests, type WorkerRequest } from './worker.ts';

/** A closed-loop round: `concurrency` calls in flight for at least `minMs` and `minCalls`. */
export interface ClosedRequest extends WorkerRequest {
  type: 'closed';
  target: string;
  concurrency: number;
  minMs: number;
  minCalls: number;
}

/** An open-loop round: `rate` calls a second for `durationMs`. */
export interface OpenRequest extends WorkerRequest {
  type: 'open';
  target: string;
  rate: number;
  durationMs: number;
}

const claims = Array.from({ length: 32 }, (_, i) => benchClaims(i));
const clients = new Map<string, LeanSignerClient>();
let next = 0;

function clientFor(target: string): LeanSignerClient {
  let client = clients.get(target);
  if (client === undefined) {
    client = connectLeanSigner(target);
    clients.set(target, client);
  }
  return client;
}

function nextClaims(): string {
  next = (next + 1) % claims.length;
  return claims[next] as string;
}

async function closed(request: ClosedRequest) {
  const client = clientFor(request.target);
  const result = await timedLoop(() => client.sign(nextClaims()), {
    minMs: request.minMs,
    minCalls: request.minCalls,
    concurrency: request.concurrency,
  });
  return summarizeLoop(result);
}

/**
 * Sends call i at start + i / rate (checking the clock every millisecond), never waiting for
 * answers. Latency runs from the moment a call is sent; `sendLagP99Ms` says how late this process
 * sent them (its own scheduling, not the signer's).
 */
async function open(request: OpenRequest): Promise<OpenLoopResult> {
  const client = clientFor(request.target);
  const total = Math.round((request.rate * request.durationMs) / 1000);
  const latencies: number[] = [];
  const lags: number[] = [];
  let errors = 0;
  const start = performance.now();
  let lastDone = start;
  await new Promise<void>((resolve) => {
    let sent = 0;
    const settle = () => {
      lastDone = performance.now();
      if (latencies.length + errors === total) resolve();
    };
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, openLoopSchedule(request.rate, now - start));
      for (; sent < due; sent += 1) {
        const sentAt = performance.now();
        lags.push(sentAt - start - (sent * 1000) / request.rate);
        client.sign(nextClaims()).then(
          () => {
            latencies.push(performance.now() - sentAt);
            settle();
          },
          () => {
            errors += 1;
            settle();
          },
        );
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  return { offered: total, errors, elapsedMs: lastDone - start, latenciesMs: latencies, sendLagsMs: lags };
}

serveRequests(
  async (request) => {
    if (request.type === 'closed') return closed(request as ClosedRequest);
    if (request.type === 'open') return open(request as OpenRequest);
    throw new Error(`unknown request ${request.type}`);
  },
  async () => {
    for (const client of clients.values()) client.close();
  },
);
