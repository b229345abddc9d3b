import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { shutdownSignal, waitForShutdown } from '#scripts/lib/cli-support.ts';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

// The test runner may listen for these signals itself: set its listeners aside while emitting.
let saved: Array<[NodeJS.Signals, NodeJS.SignalsListener[]]> = [];
beforeEach(() => {
  saved = SIGNALS.map((signal) => [signal, process.listeners(signal)]);
  for (const signal of SIGNALS) process.removeAllListeners(signal);
});
afterEach(() => {
  for (const [signal, listeners] of saved) {
    process.removeAllListeners(signal);
    for (const listener of listeners) process.on(signal, listener);
  }
});

const listening = (): number[] => SIGNALS.map((signal) => process.listenerCount(signal));

describe('shutdownSignal', () => {
  it.each(SIGNALS)('resolves with %s and stops listening for both signals', async (signal) => {
    const stopped = shutdownSignal();
    expect(listening()).toEqual([1, 1]);
    process.emit(signal, signal);
    await expect(stopped).resolves.toBe(signal);
    expect(listening()).toEqual([0, 0]);
  });
});

describe('waitForShutdown', () => {
  it('closes only after a signal, and resolves once the close finished', async () => {
    const events: string[] = [];
    const close = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push('closed');
    });
    const done = waitForShutdown(close).then(() => events.push('resolved'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(close).not.toHaveBeenCalled();
    process.emit('SIGTERM', 'SIGTERM');
    await done;
    expect(close).toHaveBeenCalledTimes(1);
    expect(events).toEqual(['closed', 'resolved']);
    expect(listening()).toEqual([0, 0]);
  });

  it('a failing close still resolves', async () => {
    const done = waitForShutdown(() => Promise.reject(new Error('close failed')));
    process.emit('SIGINT', 'SIGINT');
    await expect(done).resolves.toBeUndefined();
  });
});
