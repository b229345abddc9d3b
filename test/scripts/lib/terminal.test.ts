/**
 * The TTY-only display (issue 14, "progress display" and "colour"): a progress line on stderr once
 * a command has waited over a second, erased before the output; PASS/WARN/FAIL/SKIP in colour;
 * neither on a pipe, with --json, or (colour) with NO_COLOR; FORCE_COLOR forces colour.
 */
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerDoctor } from '#scripts/commands/doctor.ts';
import { processIo } from '#scripts/lib/cli-support.ts';
import type { HttpFetch } from '#scripts/lib/doctor/http.ts';
import {
  colourEnabled,
  paintStatus,
  processTerminal,
  startProgress,
  type Terminal,
  type TerminalStream,
  terminalFor,
} from '#scripts/lib/terminal.ts';
import { offlineDeps, servedIssuer } from './doctor/helpers.ts';

/** A stream that records writes; `isTTY` as asked. */
function fakeStream(isTTY: boolean): TerminalStream & { text: () => string; writes: string[] } {
  const writes: string[] = [];
  return { isTTY, columns: 60, writes, write: (t: string) => writes.push(t), text: () => writes.join('') };
}

const ESC = '\u001b[';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('colour', () => {
  it('is on for a TTY, off for a pipe, off with NO_COLOR, forced by FORCE_COLOR', () => {
    const tty = fakeStream(true);
    const pipe = fakeStream(false);
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true); // no-color.org: only a non-empty value counts
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
  });

  it('colours the status word inside its padding, and leaves other text alone', () => {
    expect(paintStatus('PASS', true)).toBe(`${ESC}32mPASS${ESC}39m`);
    expect(paintStatus('FAIL', true)).toBe(`${ESC}31mFAIL${ESC}39m`);
    expect(paintStatus('WARN', true)).toBe(`${ESC}33mWARN${ESC}39m`);
    expect(paintStatus('SKIP', true)).toBe(`${ESC}2mSKIP${ESC}22m`);
    expect(paintStatus('PASS', false)).toBe('PASS');
    expect(paintStatus('note', true)).toBe('note');
  });

  it('captured output (not the process streams) never gets a terminal', () => {
    expect(terminalFor(processIo)).toBe(processTerminal);
    const captured = terminalFor({ out: () => {}, err: () => {} });
    expect(captured.stdout.isTTY).toBe(false);
    expect(colourEnabled(captured.stdout, captured.env)).toBe(false);
  });
});

describe('progress', () => {
  it('draws nothing for work under a second, then a spinner line with the label, erased by done()', () => {
    const stream = fakeStream(true);
    const progress = startProgress(stream, 'checking');
    vi.advanceTimersByTime(999);
    expect(stream.writes).toEqual([]);
    progress.step('checking cluster.jwks');
    vi.advanceTimersByTime(1);
    expect(stream.text()).toBe(`\r${ESC}2K| checking cluster.jwks…`);
    vi.advanceTimersByTime(100);
    expect(stream.writes.at(-1)).toBe(`\r${ESC}2K/ checking cluster.jwks…`);
    progress.done();
    expect(stream.writes.at(-1)).toBe(`\r${ESC}2K`);
    const count = stream.writes.length;
    vi.advanceTimersByTime(5000);
    expect(stream.writes).toHaveLength(count);
  });

  it('fits the line in the terminal width', () => {
    const stream = fakeStream(true);
    const progress = startProgress(stream, `checking ${'x'.repeat(200)}`);
    vi.advanceTimersByTime(1000);
    expect(stream.text().replace(`\r${ESC}2K`, '')).toHaveLength(59);
    progress.done();
  });

  it('never draws on a pipe or when quiet (--json), and a fast run erases nothing', () => {
    for (const [stream, quiet] of [
      [fakeStream(false), false],
      [fakeStream(true), true],
    ] as const) {
      const progress = startProgress(stream, 'checking', { quiet });
      vi.advanceTimersByTime(3000);
      progress.done();
      expect(stream.writes).toEqual([]);
    }
    const fast = fakeStream(true);
    startProgress(fast, 'checking').done();
    vi.advanceTimersByTime(3000);
    expect(fast.writes).toEqual([]);
  });
});

describe('doctor on a terminal', () => {
  const issuer = 'https://oidc.example.com/c1';

  /** Runs doctor --issuer with `terminal`; the discovery fetch "takes" 1.5 s of fake time. */
  async function doctor(terminal: Terminal, json = false) {
    const served = servedIssuer(issuer);
    const slow: HttpFetch = async (url) => {
      if (url.endsWith('openid-configuration')) vi.advanceTimersByTime(1500);
      return served(url);
    };
    let out = '';
    const program = new Command().exitOverride();
    registerDoctor(() => offlineDeps(slow), terminal)(
      program,
      { out: (s) => (out += s), err: () => {} },
      () => {},
    );
    await program.parseAsync(['node', 'x', 'doctor', '--issuer', issuer, ...(json ? ['--json'] : [])]);
    return out;
  }

  it('shows "checking discovery…" on stderr while it waits, erases it, and colours the statuses', async () => {
    const stderr = fakeStream(true);
    const out = await doctor({ stdout: fakeStream(true), stderr, env: {} });
    expect(stderr.text()).toContain('checking discovery…');
    expect(stderr.writes.at(-1)).toBe(`\r${ESC}2K`);
    expect(out).toContain(`${ESC}32mPASS${ESC}39m  discovery.fetch`);
    expect(out).toContain(`${ESC}2mSKIP${ESC}22m  token.source`);
  });

  it('no colour with NO_COLOR, and neither colour nor progress with --json or on a pipe', async () => {
    const plain = await doctor({
      stdout: fakeStream(true),
      stderr: fakeStream(true),
      env: { NO_COLOR: '1' },
    });
    expect(plain).toContain('PASS  discovery.fetch');
    expect(plain).not.toContain(ESC);
    const stderr = fakeStream(true);
    const json = await doctor({ stdout: fakeStream(true), stderr, env: {} }, true);
    expect(JSON.parse(json).ok).toBe(true);
    expect(stderr.writes).toEqual([]);
    const pipe = fakeStream(false);
    expect(await doctor({ stdout: fakeStream(false), stderr: pipe, env: {} })).not.toContain(ESC);
    expect(pipe.writes).toEqual([]);
  });
});
