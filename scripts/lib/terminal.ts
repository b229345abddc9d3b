/**
 * What the CLI shows a person at a terminal and nobody else: a one-line progress display on stderr
 * while a command waits for more than a second, and PASS/WARN/FAIL/SKIP in colour. Both are off
 * when the stream is not a TTY and with --json, so pipes, files and scripts get plain text; colour
 * honours NO_COLOR (https://no-color.org) and FORCE_COLOR. No dependency: a few ANSI sequences.
 */

/** The part of a stream the display needs; process.stdout and process.stderr are ones. */
export interface TerminalStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

import { type Io, processIo } from './cli-support.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The process's streams and environment, injected so tests can use a fake TTY. */
export interface Terminal {
  stdout: TerminalStream;
  stderr: TerminalStream;
  env: Env;
}

/** The real terminal of this process. */
export const processTerminal: Terminal = { stdout: process.stdout, stderr: process.stderr, env: process.env };

const nowhere: TerminalStream = { isTTY: false, write: () => true };

/**
 * The terminal behind `io`: the process's for the process's own streams, none for captured output
 * (tests, embedding), which never gets colour or a progress line whatever the environment says.
 */
export function terminalFor(io: Io): Terminal {
  return io === processIo ? processTerminal : { stdout: nowhere, stderr: nowhere, env: {} };
}

/**
 * Whether to colour what goes to `stream`: FORCE_COLOR (any value but 0/false) forces it on, even
 * into a pipe, and FORCE_COLOR=0 off; otherwise a non-empty NO_COLOR or TERM=dumb turns it off, and
 * a TTY turns it on.
 */
export function colourEnabled(stream: TerminalStream, env: Env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if ((env.NO_COLOR ?? '') !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const SGR: Readonly<Record<string, readonly [number, number]>> = {
  PASS: [32, 39], // green
  WARN: [33, 39], // yellow
  FAIL: [31, 39], // red
  SKIP: [2, 22], // dim
};

/**
 * `text` (a padded status word) coloured by its status when `colour` is on; unchanged otherwise.
 * The padding stays outside the escape codes so columns line up either way.
 */
export function paintStatus(text: string, colour: boolean): string {
  const word = text.trim();
  const codes = SGR[word];
  if (!colour || codes === undefined) return text;
  return text.replace(word, `\u001b[${codes[0]}m${word}\u001b[${codes[1]}m`);
}

/** A running progress display. `step` changes the label; `done` erases the line. */
export interface Progress {
  step(label: string): void;
  done(): void;
}

/** The display that shows nothing (not a TTY, --json). */
export const NO_PROGRESS: Progress = { step: () => {}, done: () => {} };

/** When the display appears and how fast it turns. */
export interface ProgressOptions {
  /** No display at all (e.g. --json). */
  quiet?: boolean;
  /** Nothing is drawn before the work has taken this long (1 s). */
  delayMs?: number;
  frameMs?: number;
}

const FRAMES = ['|', '/', '-', '\\'];
const CLEAR_LINE = '\r\u001b[2K';

/**
 * Starts a progress display on `stream` (stderr) labelled `label`. Only on a TTY and only once the
 * work has taken `delayMs`: a fast command prints nothing extra. Timers are unref'd, so a display
 * never keeps the process alive; call `done()` before printing anything else.
 */
export function startProgress(
  stream: TerminalStream,
  label: string,
  options: ProgressOptions = {},
): Progress {
  if (options.quiet === true || stream.isTTY !== true) return NO_PROGRESS;
  let current = label;
  let frame = 0;
  let drawn = false;
  let spinner: ReturnType<typeof setInterval> | undefined;
  const draw = (): void => {
    // A pty without a size reports 0 columns: assume the classic 80.
    const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
    const width = Math.max(10, columns - 1);
    const text = `${FRAMES[frame % FRAMES.length]} ${current}…`;
    stream.write(`${CLEAR_LINE}${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    frame += 1;
    drawn = true;
  };
  const delay = setTimeout(() => {
    draw();
    spinner = setInterval(draw, options.frameMs ?? 100);
    spinner.unref();
  }, options.delayMs ?? 1000);
  delay.unref();
  return {
    step: (next) => {
      current = next;
      if (drawn) draw();
    },
    done: () => {
      clearTimeout(delay);
      if (spinner !== undefined) clearInterval(spinner);
      if (drawn) stream.write(CLEAR_LINE);
      drawn = false;
    },
  };
}

/** Runs `work` with a progress display labelled `label`, erased when it settles. */
export async function withProgress<T>(
  stream: TerminalStream,
  label: string,
  work: (progress: Progress) => Promise<T>,
  options: ProgressOptions = {},
): Promise<T> {
  const progress = startProgress(stream, label, options);
  try {
    return await work(progress);
  } finally {
    progress.done();
  }
}
