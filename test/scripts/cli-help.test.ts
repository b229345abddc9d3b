/**
 * The top-level `--help` lists the commands from cli.ts's table without loading any command module
 * (a bundled `--help` that loaded them all compiled the AWS SDK, gRPC and YAML first). This checks
 * the table against the real registrations, so the listing cannot drift from the commands.
 */
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMANDS, selectedCommand } from '#scripts/cli.ts';
import { runCli } from '../support/run-cli.ts';

const io = { out: () => undefined, err: () => undefined };

describe('top-level help', () => {
  it('lists each command with the term and description of its real registration', async () => {
    const real = await buildProgram(io, () => undefined, 'all');
    const help = new Help();
    const listed = real.commands.map((cmd) => [cmd.name(), help.subcommandTerm(cmd), cmd.description()]);
    expect(listed).toEqual(Object.entries(COMMANDS).map(([name, e]) => [name, e.term, e.summary]));
  });

  it('prints the same listing as with every command loaded', async () => {
    const real = await buildProgram(io, () => undefined, 'all');
    const standIns = await buildProgram(io, () => undefined);
    expect(standIns.helpInformation()).toBe(real.helpInformation());
  });

  it('loads only the command that runs, also for `help <command>`', () => {
    expect(selectedCommand(['node', 'x', 'status', '--dir', 'd'])).toBe('status');
    expect(selectedCommand(['node', 'x', 'help', 'status'])).toBe('status');
    expect(selectedCommand(['node', 'x', '--help'])).toBeUndefined();
    expect(selectedCommand(['node', 'x', 'statu'])).toBeUndefined();
    expect(selectedCommand(['node', 'x'])).toBeUndefined();
  });

  it('`help status` prints the real command help; an unknown command suggests the right one', async () => {
    const help = await runCli('help', 'status');
    expect(help.stdout).toContain('Usage: irsa-anywhere status [options]');
    expect(help.stdout).toContain('--dir');
    const typo = await runCli('statu');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('(Did you mean status?)');
  });
});
