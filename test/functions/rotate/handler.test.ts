import { afterEach, describe, expect, it, vi } from 'vitest';

const GOOD = {
  CLUSTER_NAME: 'prod',
  ISSUER_URL: 'https://oidc.example.com',
  STATE_BUCKET: 'state-bucket',
  PUBLIC_BUCKET: 'public-bucket',
  AWS_REGION: 'us-east-1',
};

function stubEnv(env: Record<string, string>): void {
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe.each([
  ['rotate', '../../../functions/rotate/handler.ts'],
  ['bootstrap', '../../../functions/bootstrap/handler.ts'],
])('%s handler.ts wiring', (_name, path) => {
  it('builds the handler once at init from the environment', async () => {
    stubEnv(GOOD);
    const module = (await import(path)) as { handler: unknown };
    expect(typeof module.handler).toBe('function');
  });
});

describe('rotate handler.ts wiring', () => {
  it('fails at init with CONFIG_INVALID naming the variable, logged as one structured line', async () => {
    stubEnv({ ...GOOD, ISSUER_URL: 'https://oidc.example.com/' });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await expect(import('../../../functions/rotate/handler.ts')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    const line = JSON.parse(String(logged.mock.calls[0]?.[0])) as Record<string, string>;
    expect(line).toMatchObject({ level: 'ERROR', code: 'CONFIG_INVALID' });
    expect(line.error).toContain('ISSUER_URL');
  });
});

describe('bootstrap handler.ts wiring', () => {
  it('loads with a bad configuration: it is read inside the handler (test/functions/bootstrap/bad-config.test.ts)', async () => {
    stubEnv({ ...GOOD, ISSUER_URL: 'https://oidc.example.com/' });
    const module = (await import('../../../functions/bootstrap/handler.ts')) as { handler: unknown };
    expect(typeof module.handler).toBe('function');
  });
});
