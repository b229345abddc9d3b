/** The signer's pure parts: claims checks, settings, retry policy, legacy keys. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KmsSigner } from '#adapters/aws/kms-signer.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { LocalKeys } from '#adapters/local/software-keys.ts';
import { IrsaError } from '#core/errors.ts';
import { kidFromSpki } from '#core/kid.ts';
import { kmsBackend, localBackend } from '#scripts/lib/signer/backends.ts';
import { checkClaims, encodeHeader, MAX_CLAIMS_CHARS } from '#scripts/lib/signer/claims.ts';
import { resolveSettings } from '#scripts/lib/signer/config.ts';
import { loadExtraKeys, parseExtraKeys } from '#scripts/lib/signer/extra-keys.ts';
import { isThrottling, withRetry } from '#scripts/lib/signer/retry.ts';
import { parseStateUrl } from '#scripts/lib/state-url.ts';

const fixture = (name: string) => new URL(`../../../fixtures/keys/${name}`, import.meta.url);
const b64u = (text: string) => Buffer.from(text).toString('base64url');

describe('checkClaims', () => {
  it('accepts base64url JSON objects, including ones whose encoding has - and _', () => {
    expect(() => checkClaims(b64u('{"sub":"system:serviceaccount:a:b"}'))).not.toThrow();
    const tricky = b64u('{"x":"\u00ff\u00fe>>>???"}');
    expect(tricky).toMatch(/[-_]/);
    expect(() => checkClaims(tricky)).not.toThrow();
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['padded', `${b64u('{"a":1}')}=`],
    ['standard base64 alphabet', Buffer.from('{"x":"\u00ff\u00fe>>>???"}').toString('base64')],
    ['not canonical (trailing bits set)', 'e30'.replace(/0$/, '1')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')],
    ['JSON null', b64u('null')],
    ['JSON number', b64u('42')],
    ['too long', 'A'.repeat(MAX_CLAIMS_CHARS + 4)],
  ])('rejects %s with SIGN_CLAIMS_INVALID', (_name, claims) => {
    expect(() => checkClaims(claims)).toThrow(expect.objectContaining({ code: 'SIGN_CLAIMS_INVALID' }));
  });

  it('never echoes the claims in its message', () => {
    const secret = b64u('not json but secret-ish');
    try {
      checkClaims(secret);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});

describe('encodeHeader', () => {
  it('holds exactly alg, kid and typ JWT', () => {
    expect(JSON.parse(Buffer.from(encodeHeader('ES256', 'abc'), 'base64url').toString())).toStrictEqual({
      alg: 'ES256',
      kid: 'abc',
      typ: 'JWT',
    });
  });
});

describe('resolveSettings', () => {
  it('defaults to 86400 s tokens, a 60 s refresh hint', () => {
    expect(resolveSettings()).toMatchObject({ maxTokenExpirationSeconds: 86_400, refreshHintSeconds: 60 });
  });

  it('defaults the token expiration down to a shorter stack lifetime', () => {
    expect(resolveSettings({ maxTokenLifetimeSeconds: 3_600 }).maxTokenExpirationSeconds).toBe(3_600);
  });

  it.each([
    [{ maxTokenExpirationSeconds: 599 }, '--max-token-expiration-seconds'],
    [{ maxTokenExpirationSeconds: 86_401 }, "stack's max token lifetime"],
    [{ maxTokenExpirationSeconds: 7_200, maxTokenLifetimeSeconds: 3_600 }, "stack's max token lifetime"],
    [{ maxTokenLifetimeSeconds: 300 }, '--max-token-lifetime-seconds'],
    [{ refreshHintSeconds: 0 }, '--refresh-seconds'],
    [{ maxTokenExpirationSeconds: 1_000.5 }, '--max-token-expiration-seconds'],
  ])('refuses %o naming %s', (input, named) => {
    expect(() => resolveSettings(input)).toThrow(named);
    expect(() => resolveSettings(input)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('accepts a longer expiration when the stack lifetime allows it', () => {
    expect(
      resolveSettings({ maxTokenExpirationSeconds: 172_800, maxTokenLifetimeSeconds: 172_800 })
        .maxTokenExpirationSeconds,
    ).toBe(172_800);
  });
});

describe('withRetry', () => {
  const throttled = () => Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
  const noSleep = { sleep: async () => {}, random: () => 0.5 };

  it('recognises throttling by error name, HTTP 429 and SIGNING_THROTTLED', () => {
    expect(isThrottling(throttled())).toBe(true);
    expect(isThrottling({ name: 'X', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottling(new IrsaError('SIGNING_THROTTLED', 'm', 'f'))).toBe(true);
    expect(isThrottling(new Error('other'))).toBe(false);
  });

  it('retries throttling with growing delays, then stops at the attempt limit', async () => {
    const delays: number[] = [];
    let calls = 0;
    const failing = () => {
      calls += 1;
      return Promise.reject(throttled());
    };
    await expect(
      withRetry(failing, {
        attempts: 4,
        deadlineMs: 10_000,
        ...noSleep,
        onRetry: (_a, _e, d) => delays.push(d),
      }),
    ).rejects.toThrow('slow down');
    expect(calls).toBe(4);
    expect(delays).toEqual([25, 50, 100]);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      withRetry(
        () => {
          calls += 1;
          return Promise.reject(new Error('denied'));
        },
        { attempts: 4, deadlineMs: 10_000, ...noSleep },
      ),
    ).rejects.toThrow('denied');
    expect(calls).toBe(1);
  });

  it('fails with SIGNING_TIMEOUT when the operation outlives the deadline', async () => {
    await expect(
      withRetry(() => new Promise(() => {}), { attempts: 3, deadlineMs: 30 }),
    ).rejects.toMatchObject({
      code: 'SIGNING_TIMEOUT',
    });
  });
});

describe('extra public keys', () => {
  it('reads every PEM public key of a file, kid = kidFromSpki', async () => {
    const rsa = await readFile(fixture('rsa-2048.pub.pem'), 'utf8');
    const ec = await readFile(fixture('ec-p256.pub.pem'), 'utf8');
    const keys = parseExtraKeys(`${rsa}\n${ec}`, 'both.pem');
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key.kid).toBe(kidFromSpki(key.spki));
  });

  it('dedupes keys given twice across files', async () => {
    const file = fixture('ec-p256.pub.pem').pathname;
    expect(await loadExtraKeys([file, file])).toHaveLength(1);
  });

  it('refuses private keys, files with no key and unreadable files', async () => {
    const priv = await readFile(fixture('ec-p256.pem'), 'utf8');
    expect(() => parseExtraKeys(priv, 'ec-p256.pem')).toThrow(
      expect.objectContaining({ code: 'CONFIG_EXTRA_KEY_PRIVATE' }),
    );
    expect(() => parseExtraKeys('hello', 'x.pem')).toThrow(
      expect.objectContaining({ code: 'CONFIG_EXTRA_KEY_INVALID' }),
    );
    await expect(loadExtraKeys(['/nonexistent/sa.pub'])).rejects.toMatchObject({
      code: 'CONFIG_EXTRA_KEY_UNREADABLE',
    });
  });
});

describe('backends', () => {
  it('kms: keyset from the S3 object named by --state, signatures from KMS', async () => {
    const backend = await kmsBackend({
      state: 's3://irsa-state-prod/clusters/a/keyset.json',
      region: 'eu-west-1',
    });
    expect(backend.describe).toBe('s3://irsa-state-prod/clusters/a/keyset.json');
    expect(backend.source).toBeInstanceOf(S3KeysetStore);
    expect(backend.signer).toBeInstanceOf(KmsSigner);
  });

  it('local: the local issuer directory', () => {
    const backend = localBackend('/tmp/issuer');
    expect(backend.describe).toBe('/tmp/issuer/state/keyset.json');
    expect(backend.signer).toBeInstanceOf(LocalKeys);
  });

  it.each(['bucket/keyset.json', 's3://bucket', 's3://Bad_Bucket/keyset.json', 'https://bucket/keyset.json'])(
    'refuses --state %s',
    (state) => {
      expect(() => parseStateUrl(state)).toThrow(expect.objectContaining({ code: 'CONFIG_STATE_INVALID' }));
    },
  );
});
