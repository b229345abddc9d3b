/**
 * Fuzzing of the cluster-side inputs (issue 7, part 3): kube-apiserver configurations for
 * `apiserver configure` (mutations of every golden fixture, for its distro, plus random text), and
 * gRPC Sign requests to the ExternalJWTSigner over a real Unix socket (random and mutated claims
 * segments). Property: no crash, no hang; the planner answers or throws a coded IrsaError; the
 * signer answers or returns INVALID_ARGUMENT, never INTERNAL, and keeps serving.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTROS, type Distro, parseDistro, planApiserver } from '#scripts/lib/apiserver/index.ts';
import { normalizeSettings, type SettingsInput } from '#scripts/lib/apiserver/settings.ts';
import { connectSigner, type SignerClient } from '#scripts/lib/signer/client.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { startTempLocalSigner, type TempSigner } from '#scripts/lib/signer/temp-signer.ts';
import { caseCounts, count, expectCodedOutcome, mutated, withinTime } from './fuzz-support.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const FIXTURES = join(import.meta.dirname, '../fixtures/apiserver');

interface Fixture {
  name: string;
  distro: Distro;
  input: string;
  settings: ReturnType<typeof normalizeSettings>;
}

function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const file of readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.settings.json'))
    .sort()) {
    const name = file.replace(/\.settings\.json$/, '');
    const raw = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as SettingsInput &
      Record<string, unknown>;
    const { distro, description: _d, expectError: _e, expectUnchanged: _u, expectNotes: _n, ...input } = raw;
    if (typeof distro !== 'string' || !(DISTROS as readonly string[]).includes(distro)) continue;
    let settings: ReturnType<typeof normalizeSettings>;
    try {
      settings = normalizeSettings(input as SettingsInput);
    } catch {
      continue; // fixtures of bad settings are covered by the golden tests
    }
    out.push({
      name,
      distro: parseDistro(distro),
      input: readFileSync(join(FIXTURES, `${name}.in.yaml`), 'utf8'),
      settings,
    });
  }
  return out;
}

afterAll(() => {
  console.info(`fuzz case counts: ${JSON.stringify(Object.fromEntries(caseCounts))}`);
});

describe('fuzz: kube-apiserver configurations for apiserver configure', () => {
  const all = fixtures();

  it('has a fixture for every distro to start from', () => {
    expect(new Set(all.map((f) => f.distro)).size).toBe(DISTROS.length);
  });

  it('mutations of every fixture, planned for its distro; a plan that succeeds is idempotent', async () => {
    const perFixture = Math.max(20, Math.ceil(RUNS / all.length));
    for (const fixture of all) {
      await fc.assert(
        fc.asyncProperty(mutated(fixture.input), async (text) => {
          let planned: string | undefined;
          await expectCodedOutcome('apiserver-mutated', () => {
            planned = planApiserver(fixture.distro, text, fixture.settings).text;
          });
          if (planned !== undefined) {
            // Idempotence: planning the output again changes nothing.
            const again = planApiserver(fixture.distro, planned, fixture.settings);
            expect(again.text, `${fixture.name}: second plan changed the text`).toBe(planned);
          }
        }),
        { numRuns: perFixture, endOnFailure: true },
      );
    }
  });

  it('found by fuzzing: a config that is only a comment without a final newline stays a comment', () => {
    // The planner appended the new settings right after "# note", commenting them all out.
    for (const fixture of all.filter((f) =>
      ['k3s', 'rke2', 'talos', 'kind', 'openshift'].includes(f.distro),
    )) {
      let planned: string;
      try {
        planned = planApiserver(fixture.distro, '# note', fixture.settings).text;
      } catch {
        continue; // a distro that refuses a blank config is fine
      }
      expect(planned.split('\n')[0], fixture.name).toBe('# note');
      expect(planApiserver(fixture.distro, planned, fixture.settings).text, fixture.name).toBe(planned);
    }
  });

  it('found by fuzzing: a file that holds only a YAML directive is refused, not turned into invalid YAML', () => {
    for (const fixture of all.filter((f) =>
      ['k3s', 'rke2', 'talos', 'kind', 'openshift'].includes(f.distro),
    )) {
      let planned: string | undefined;
      try {
        planned = planApiserver(fixture.distro, '%YAML 1.2', fixture.settings).text;
      } catch (error) {
        expect(error, fixture.name).toMatchObject({ code: expect.stringMatching(/^APISERVER_|^FLAG_/) });
      }
      if (planned !== undefined)
        expect(planApiserver(fixture.distro, planned, fixture.settings).text).toBe(planned);
    }
  });

  it('random text and random YAML-ish documents for every distro', async () => {
    const yamlish = fc
      .array(
        fc.tuple(
          fc.nat({ max: 6 }),
          fc.constantFrom(
            'apiVersion',
            'kind',
            'spec',
            'containers',
            '- command',
            '- --service-account-issuer',
            'extraArgs',
            'kube-apiserver-arg',
            'cluster',
            'apiServer',
          ),
          fc.oneof(fc.string({ maxLength: 12 }), fc.constant('')),
        ),
        { maxLength: 12 },
      )
      .map((lines) =>
        lines.map(([indent, key, value]) => `${' '.repeat(indent * 2)}${key}: ${value}`).join('\n'),
      );
    const fixture = fixtures()[0];
    if (fixture === undefined) throw new Error('no fixtures');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...DISTROS),
        fc.oneof(fc.string({ maxLength: 300 }), yamlish, fc.json()),
        async (distro, text) => {
          await expectCodedOutcome('apiserver-random', () => planApiserver(distro, text, fixture.settings));
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});

describe('fuzz: gRPC Sign requests to the signer over its Unix socket', () => {
  let signer: TempSigner;
  let client: SignerClient;
  const log = memoryLog();
  const INVALID_ARGUMENT = 3;
  const valid = Buffer.from(
    JSON.stringify({
      iss: 'https://oidc.example.com/x',
      sub: 'system:serviceaccount:a:b',
      aud: ['sts.amazonaws.com'],
      exp: 2_000_000_000,
      iat: 1_900_000_000,
    }),
  ).toString('base64url');

  beforeAll(async () => {
    signer = await startTempLocalSigner({ keySpec: 'ECC_NIST_P256', log });
    client = connectSigner(signer.target, 'v1', 5_000);
  });
  afterAll(async () => {
    client?.close();
    await signer?.close();
  });

  async function sign(claims: string): Promise<'ok' | number> {
    count('signer-sign');
    try {
      const answer = await withinTime(6_000, () => client.sign(claims));
      expect(answer.header.length).toBeGreaterThan(0);
      expect(answer.signature).toMatch(/^[A-Za-z0-9_-]+$/);
      return 'ok';
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'number') throw error;
      return code;
    }
  }

  it('random strings, random JSON encoded, and mutations of a valid claims segment', async () => {
    const claims = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url')),
      fc.string({ maxLength: 200 }).map((text) => Buffer.from(text).toString('base64url')),
      mutated(valid),
    );
    const runs = Math.min(RUNS, 400);
    await fc.assert(
      fc.asyncProperty(claims, async (segment) => {
        const outcome = await sign(segment);
        expect([`ok`, INVALID_ARGUMENT]).toContain(outcome);
      }),
      { numRuns: runs, endOnFailure: true },
    );
    // Still serving after all that.
    expect(await sign(valid)).toBe('ok');
  });
});

describe('found by fuzzing (seed 1844637467)', () => {
  it('an alias whose anchor is missing is refused as invalid YAML, not a crash', async () => {
    const { parseDocuments } = await import('#scripts/lib/apiserver/yaml-doc.ts');
    expect(() => parseDocuments('a:\n  - name: x\n    value: */var/log/audit.log\n', 'kubeadm.yaml')).toThrow(
      expect.objectContaining({ code: 'APISERVER_CONFIG_INVALID' }),
    );
  });
});
