/**
 * Golden tests for the kube-apiserver planner: every `test/fixtures/apiserver/<case>.settings.json`
 * names a distro and the settings; `<case>.in.yaml` is the config before, `<case>.out.yaml` the
 * expected config after (absent when `expectError` names the error code). Run with
 * `UPDATE_GOLDEN=1` to (re)write outputs, then review the diff by hand.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import { parseDistro, planApiserver } from '#scripts/lib/apiserver/index.ts';
import { normalizeSettings, type SettingsInput } from '#scripts/lib/apiserver/settings.ts';

const DIR = join(import.meta.dirname, '../../../fixtures/apiserver');

interface CaseSettings extends SettingsInput {
  distro: string;
  description: string;
  expectError?: string;
  /** The input is already configured: the output must equal it byte for byte. */
  expectUnchanged?: boolean;
  /** Substrings the notes must contain. */
  expectNotes?: string[];
}

const cases = readdirSync(DIR)
  .filter((name) => name.endsWith('.settings.json'))
  .map((name) => name.replace(/\.settings\.json$/, ''))
  .sort();

function load(name: string): { settings: CaseSettings; input: string } {
  const settings = JSON.parse(readFileSync(join(DIR, `${name}.settings.json`), 'utf8')) as CaseSettings;
  const input = readFileSync(join(DIR, `${name}.in.yaml`), 'utf8');
  return { settings, input };
}

function plan(settings: CaseSettings, text: string) {
  const {
    distro,
    description: _d,
    expectError: _e,
    expectUnchanged: _u,
    expectNotes: _n,
    ...input
  } = settings;
  return planApiserver(parseDistro(distro), text, normalizeSettings(input));
}

describe('apiserver golden fixtures', () => {
  it('has fixtures for every distro', () => {
    const distros = new Set(
      cases
        .map((name) => load(name).settings)
        .filter((s) => s.expectError === undefined)
        .map((s) => s.distro),
    );
    expect([...distros].sort()).toEqual([
      'k3s',
      'kind',
      'kubeadm',
      'kubeadm-config',
      'openshift',
      'rke2',
      'talos',
    ]);
  });

  for (const name of cases) {
    const { settings, input } = load(name);
    const outPath = join(DIR, `${name}.out.yaml`);

    if (settings.expectError !== undefined) {
      it(`${name}: ${settings.description} → ${settings.expectError}`, () => {
        let caught: unknown;
        try {
          plan(settings, input);
        } catch (error) {
          caught = error;
        }
        expect(isIrsaError(caught) && caught.code === settings.expectError, String(caught)).toBe(true);
        expect(existsSync(outPath)).toBe(false);
      });
      continue;
    }

    it(`${name}: ${settings.description}`, () => {
      const result = plan(settings, input);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(outPath, result.text);
      expect(result.text).toBe(readFileSync(outPath, 'utf8'));
      if (settings.expectUnchanged === true) {
        expect(result.text).toBe(input);
        expect(result.changes).toEqual([]);
      } else {
        expect(result.changes.length).toBeGreaterThan(0);
      }
      for (const note of settings.expectNotes ?? []) {
        expect(result.notes.join('\n')).toContain(note);
      }
    });

    it(`${name}: configuring the output again changes nothing`, () => {
      const once = plan(settings, input);
      const twice = plan(settings, once.text);
      expect(twice.changes).toEqual([]);
      expect(twice.text).toBe(once.text);
    });
  }
});
