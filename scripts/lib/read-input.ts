/** Reading small text inputs (tokens, policies) from a file or stdin, with a size limit. */
import { readFile, stat } from 'node:fs/promises';
import { IrsaError } from '#core/errors.ts';

/** Reads `path` (or stdin for "-") as UTF-8, refusing anything over `maxBytes`. */
export async function readTextInput(path: string, what: string, maxBytes = 1_000_000): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > maxBytes)
        throw new IrsaError(
          'INPUT_TOO_LARGE',
          `${what} on stdin is larger than ${maxBytes} bytes.`,
          `Pass the ${what} itself, not a larger file.`,
        );
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) {
    throw new IrsaError(
      'INPUT_MISSING',
      `${what} file "${path}" does not exist or is not a file.`,
      `Pass the path of the ${what} file, or - for stdin.`,
    );
  }
  if (info.size > maxBytes) {
    throw new IrsaError(
      'INPUT_TOO_LARGE',
      `${what} file "${path}" is ${info.size} bytes, over ${maxBytes}.`,
      `Pass the ${what} itself, not a larger file.`,
    );
  }
  return readFile(path, 'utf8');
}
