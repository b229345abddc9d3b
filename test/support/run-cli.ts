/** Runs the CLI in-process with captured output, as a user would run `irsa-anywhere ...`. */
import { main } from '#scripts/cli.ts';

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
