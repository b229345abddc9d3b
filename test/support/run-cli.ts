/** Runs the CLI in-process with captured output, as a user would run `irsa-anywhere ...`. */
import { Command } from 'commander';
import { main, type Register } from '#scripts/cli.ts';

/** The captured result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `irsa-anywhere <args>` in this process. */
export async function runCli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'irsa-anywhere', ...args], {
    out: (text) => {
      stdout += text.endsWith('\n') ? text : `${text}\n`;
    },
    err: (text) => {
      stderr += text.endsWith('\n') ? text : `${text}\n`;
    },
  });
  return { code, stdout, stderr };
}

/** What {@link runRegistered} captured: each stream's writes joined by newlines. */
export interface RegisteredResult {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs one command module's `register` through commander on its own (no other commands loaded),
 * as `irsa-anywhere <args>`. Commander usage errors throw (exitOverride) instead of exiting.
 */
export async function runRegistered(register: Register, args: string[]): Promise<RegisteredResult> {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const program = new Command('irsa-anywhere').exitOverride();
  register(program, { out: (s) => out.push(s), err: (s) => err.push(s) }, (c) => {
    code = c;
  });
  await program.parseAsync(['node', 'irsa-anywhere', ...args]);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
