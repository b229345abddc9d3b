/**
 * stdout and stderr can fail: a closed pipe (`| head` → EPIPE) or a full disk (`> /dev/full` →
 * ENOSPC). Node reports both as an 'error' event on the stream, which crashes with a stack trace
 * when nobody listens. The CLI listens: a closed pipe means the reader has what it wanted, so the
 * process ends quietly; any other failure is one coded line on stderr (when stderr still works)
 * and exit 1, because the output the user asked for is incomplete.
 */
import { formatError, IrsaError } from '#core/errors.ts';

/** How the process ends after an output error; injected by tests. */
export interface OutputErrorExit {
  exit(code: number): void;
  /** Writes a line to stderr, ignoring every failure (stderr may be the broken stream). */
  report(line: string): void;
}

const processExit: OutputErrorExit = {
  exit: (code) => process.exit(code),
  report: (line) => {
    try {
      process.stderr.write(line);
    } catch {
      // Nothing left to tell the user with.
    }
  },
};

/** The handler for an 'error' event on `stream` ('stdout' or 'stderr'). */
export function outputErrorHandler(stream: 'stdout' | 'stderr', how: OutputErrorExit = processExit) {
  return (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') {
      how.exit(0);
      return;
    }
    if (stream === 'stdout') {
      const failure = new IrsaError(
        'OUTPUT_WRITE_FAILED',
        `Cannot write to stdout (${error.code ?? error.message}); the output is incomplete.`,
        'Free space or redirect the output elsewhere, then run again.',
      );
      how.report(`error ${formatError(failure)}\n`);
    }
    how.exit(1);
  };
}

/** Installs the handlers on the process's stdout and stderr. */
export function handleOutputErrors(): void {
  process.stdout.on('error', outputErrorHandler('stdout'));
  process.stderr.on('error', outputErrorHandler('stderr'));
}
