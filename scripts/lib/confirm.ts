/**
 * Asking before a destructive step: `--yes` answers for scripts; on a terminal the user is asked;
 * anywhere else the step is refused, so a pipeline never destroys something by default.
 */
import { createInterface } from 'node:readline/promises';
import { IrsaError } from '#core/errors.ts';

/** Where the question is asked; injected by tests. */
export interface Prompt {
  /** True when a person can answer (stdin and stderr are terminals). */
  interactive: boolean;
  ask(question: string): Promise<string>;
}

/** The process's terminal. */
export const terminalPrompt: Prompt = {
  interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  async ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

/**
 * Resolves when the step may go ahead: `yes` was given, or a person typed "yes". Otherwise throws
 * `USAGE_CONFIRMATION_REQUIRED` naming `what` and the flag.
 */
export async function confirmDestructive(
  what: string,
  yes: boolean,
  prompt: Prompt = terminalPrompt,
): Promise<void> {
  if (yes) return;
  if (prompt.interactive) {
    const answer = await prompt.ask(`${what}\nType "yes" to go ahead: `);
    if (answer.trim().toLowerCase() === 'yes') return;
    throw new IrsaError(
      'USAGE_CONFIRMATION_REQUIRED',
      'Not confirmed; nothing was changed.',
      'Answer "yes", or pass --yes.',
    );
  }
  throw new IrsaError(
    'USAGE_CONFIRMATION_REQUIRED',
    `${what} Refusing without confirmation (no terminal to ask on).`,
    'Pass --yes to confirm.',
  );
}
