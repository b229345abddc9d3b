/**
 * Every command in README.md, CONTRIBUTING.md and docs/*.md runs as written. The rule (also in
 * CONTRIBUTING.md): placeholder-free local-mode commands are run against a temporary directory
 * holding a real local issuer; every other `irsa-anywhere` command is parsed by the CLI's own
 * parser (`--help` appended), which must know its command path and every flag it uses.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalIssuer, startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { commandPath, type DocCommand, docCommands, flagsOf, isRunnable } from '../support/doc-commands.ts';
import { runCli } from '../support/run-cli.ts';

const root = resolve(import.meta.dirname, '../..');
const docFiles = [
  'README.md',
  'CONTRIBUTING.md',
  ...(await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
];
const texts = new Map<string, string>();
for (const file of docFiles) texts.set(file, await readFile(join(root, file), 'utf8'));
const commands: DocCommand[] = docFiles.flatMap((file) => docCommands(file, texts.get(file) ?? ''));
const runnable = commands.filter(isRunnable);
const parsedOnly = commands.filter((c) => !isRunnable(c));

/** The issuer the docs use for the local issuer (`npm start`). */
const DOC_ISSUER = 'http://127.0.0.1:8900';

let work: string;
let issuer: RunningLocalIssuer;
const startCwd = process.cwd();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irsa-docs-'));
  issuer = await startLocalIssuer({ dir: join(work, '.irsa-anywhere'), host: '127.0.0.1', port: 0 });
  process.chdir(work);
});
afterAll(async () => {
  process.chdir(startCwd);
  await issuer?.close();
});

describe('the README', () => {
  it('is at most 250 lines', () => {
    expect((texts.get('README.md') ?? '').split('\n').length).toBeLessThanOrEqual(250);
  });

  it('every relative link points at a file inside the repository', () => {
    for (const [file, text] of texts) {
      for (const match of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        const path = resolve(root, dirname(file), target);
        expect(path.startsWith(`${root}/`), `${file} links ${target}, outside the repository`).toBe(true);
        expect(existsSync(path), `${file} links ${target}, which does not exist`).toBe(true);
      }
    }
  });
});

describe('the quick start', () => {
  it('writes its files (token.jwt, values.yaml) where .gitignore ignores them', async () => {
    const ignored = (await readFile(join(root, '.gitignore'), 'utf8')).split('\n').map((l) => l.trim());
    const written = commands
      .filter((c) => c.where.startsWith('README.md') && c.stdoutTo !== undefined)
      .map((c) => c.stdoutTo ?? '');
    expect(written).toEqual(expect.arrayContaining(['token.jwt', 'values.yaml']));
    for (const file of written) expect(ignored, `${file} is not in .gitignore`).toContain(`/${file}`);
  });
});

describe('documented commands', () => {
  it('finds the quick start commands (the extractor works)', () => {
    const readme = commands.filter((c) => c.where.startsWith('README.md'));
    expect(readme.map((c) => commandPath(c.args).join(' '))).toEqual(
      expect.arrayContaining(['token mint', 'verify', 'status', 'rotate', 'apiserver configure', 'doctor']),
    );
    expect(runnable.length).toBeGreaterThanOrEqual(5);
    // The kind + local flow (issue 14 item 7) runs, not only parses.
    expect(runnable.map((c) => c.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/apiserver configure --distro kind --issuer http:/)]),
    );
  });

  it('runs every local-mode command as written, in order', async () => {
    for (const command of runnable) {
      const args = command.args.map((a) => a.replaceAll(DOC_ISSUER, issuer.issuer));
      const result = await runCli(...args);
      expect(result.code, `${command.where}: ${command.text}\n${result.stderr}`).toBe(0);
      if (command.stdoutTo !== undefined) await writeFile(join(work, command.stdoutTo), result.stdout);
    }
  });

  it.each(parsedOnly.map((c) => [c.where, c] as const))('%s parses', async (_where, command) => {
    const path = commandPath(command.args);
    const result = await runCli(...path, '--help');
    expect(result.code, `${command.text}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: ${['irsa-anywhere', ...path].join(' ')} `, 'm'));
    // Commander also accepts a parent command's options after the subcommand.
    let known = result.stdout;
    for (let i = path.length - 1; i >= 1; i -= 1)
      known += (await runCli(...path.slice(0, i), '--help')).stdout;
    for (const flag of flagsOf(command.args)) {
      expect(known, `${command.where}: ${command.text} uses ${flag}`).toContain(flag);
    }
  });
});
