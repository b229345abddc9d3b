/**
 * Extracts the `irsa-anywhere` commands from the fenced shell blocks of Markdown files, for the
 * test that proves every documented command runs (or at least parses) as written. The rule for
 * which commands run is documented in CONTRIBUTING.md ("Every command in the docs runs as written").
 */

/** One `irsa-anywhere` invocation found in a document. */
export interface DocCommand {
  /** `file:line` of the (first line of the) command. */
  where: string;
  /** The command line as written (continuations joined). */
  text: string;
  /** The arguments after `irsa-anywhere`, unquoted. */
  args: string[];
  /** The file stdout is redirected to (`> file`), if any. */
  stdoutTo?: string;
  /** Index of the fenced block in its file, so commands of one block run in order. */
  block: string;
}

const SHELL_FENCE = /^```(sh|bash|shell|console)\s*$/;

/** Splits a shell line into words, honouring single and double quotes. Enough for docs. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (const ch of line) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

/** Removes a trailing ` # comment` that sits outside quotes. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i).trimEnd();
  }
  return line;
}

/** The logical lines (continuations joined) of the shell blocks of one Markdown file. */
function shellLines(file: string, markdown: string): { where: string; text: string; block: string }[] {
  const out: { where: string; text: string; block: string }[] = [];
  let inBlock = false;
  let shell = false;
  let blockNo = 0;
  let pending: { where: string; text: string } | null = null;
  markdown.split('\n').forEach((raw, i) => {
    if (raw.startsWith('```')) {
      if (inBlock) inBlock = false;
      else {
        inBlock = true;
        shell = SHELL_FENCE.test(raw);
        blockNo += 1;
      }
      return;
    }
    if (!inBlock || !shell) return;
    const body = raw.replace(/^\$ /, '');
    const joined: { where: string; text: string } = pending ?? { where: `${file}:${i + 1}`, text: '' };
    if (/\\\s*$/.test(body)) {
      pending = { where: joined.where, text: `${joined.text}${body.replace(/\\\s*$/, '')} ` };
      return;
    }
    pending = null;
    const text = stripComment(`${joined.text}${body}`).trim();
    if (text !== '') out.push({ where: joined.where, text, block: `${file}#${blockNo}` });
  });
  return out;
}

/** Every `irsa-anywhere` command in the shell blocks of `markdown`. */
export function docCommands(file: string, markdown: string): DocCommand[] {
  const found: DocCommand[] = [];
  for (const line of shellLines(file, markdown)) {
    for (const part of line.text.split(/\s*(?:&&|\|\||;|\|)\s*/)) {
      const words = shellWords(part);
      while (words[0] === 'sudo' || words[0] === 'npx' || /^[A-Z_]+=/.test(words[0] ?? '')) words.shift();
      if (words[0] !== 'irsa-anywhere') continue;
      const args = words.slice(1);
      const redirect = args.indexOf('>');
      const stdoutTo = redirect >= 0 ? args[redirect + 1] : undefined;
      found.push({
        where: line.where,
        text: part,
        args: redirect >= 0 ? args.slice(0, redirect) : args,
        ...(stdoutTo !== undefined ? { stdoutTo } : {}),
        block: line.block,
      });
    }
  }
  return found;
}

/**
 * Commands that run in local mode against a temporary directory: the command path (the leading
 * words) and, for commands that also talk to AWS, the flag that makes them local.
 */
const RUNNABLE: { path: string; needs?: string[] }[] = [
  { path: 'token mint' },
  { path: 'verify' },
  { path: 'status', needs: ['--dir'] },
  { path: 'rotate', needs: ['--dir'] },
  { path: 'trust-policy' },
  { path: 'webhook manifests' },
  // The kind config of the local flow (docs/signer.md): printed, nothing on the machine changes.
  { path: 'apiserver configure', needs: ['--distro', 'kind'] },
];

/** Whether `words` appear in `args` next to each other, in order. */
function hasWords(args: string[], words: string[]): boolean {
  return args.some((_, i) => words.every((word, j) => args[i + j] === word));
}

/** The leading non-flag words of a command: `apiserver configure`, `token mint`, `verify`. */
export function commandPath(args: string[]): string[] {
  const path: string[] = [];
  for (const word of args) {
    if (word.startsWith('-') || /[<[.…]/.test(word)) break;
    path.push(word);
  }
  return path;
}

/** Whether a command is placeholder-free local-mode and is run, not only parsed. */
export function isRunnable(command: DocCommand): boolean {
  if (/<[^>]*>|\.\.\.|…|\[/.test(command.text)) return false;
  const path = commandPath(command.args).join(' ');
  return RUNNABLE.some((r) => r.path === path && (r.needs === undefined || hasWords(command.args, r.needs)));
}

/** The `--flags` a command uses (without `=value`). */
export function flagsOf(args: string[]): string[] {
  return args.filter((a) => /^--[a-z]/.test(a)).map((a) => a.replace(/=.*$/, ''));
}
