import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { IrsaError } from '#core/errors.ts';
import { publicJwkFromSpki } from '#core/jwk.ts';
import { buildJwks } from '#core/jwks.ts';
import {
  decodeTokenUnverified,
  describeIssuerDifference,
  parseServiceAccountSubject,
  verifyToken,
  verifyTokenWithJwks,
} from '#core/verify-token.ts';
import { OPENSSL_KIDS, privateKey, recordFor, spkiDer } from './key-fixtures.ts';

const ISSUER = 'https://oidc.example.com/team-a';
const NOW = new Date('2026-01-15T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const AUDIENCES = ['sts.amazonaws.com'];
const RSA_KID = OPENSSL_KIDS['rsa-2048'];
const EC_KID = OPENSSL_KIDS['ec-p256'];
const JWKS = buildJwks([
  recordFor(spkiDer('rsa-2048'), 'active', '2026-01-10T00:00:00Z'),
  recordFor(spkiDer('ec-p256'), 'retired', '2026-01-01T00:00:00Z', 'ECC_NIST_P256'),
]);

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: ['sts.amazonaws.com'],
    exp: NOW_S + 3600,
    iat: NOW_S - 60,
    iss: ISSUER,
    nbf: NOW_S - 60,
    sub: 'system:serviceaccount:team-a:app',
    'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app', uid: 'u-1' } },
    ...extra,
  };
}

/** Signs with node:crypto directly, so any header or claims can be produced. */
function signRaw(header: Record<string, unknown>, body: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64(header)}.${b64(body)}`;
  const alg = String(header.alg);
  const hash = `sha${alg.slice(2)}`;
  const signature = alg.startsWith('ES')
    ? sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : sign(hash, Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

const rsaToken = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string =>
  signRaw({ alg: 'RS256', kid: RSA_KID, ...header }, claims(extra), privateKey('rsa-2048'));

async function failure(promise: Promise<unknown>): Promise<IrsaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof IrsaError) return error;
    throw error;
  }
  throw new Error('expected verification to fail');
}

const check = (
  token: string,
  overrides: Partial<{ now: Date; audiences: string[]; jwks: unknown; issuer: string }> = {},
) => verifyTokenWithJwks(token, { issuer: ISSUER, audiences: AUDIENCES, now: NOW, jwks: JWKS, ...overrides });

function fakeFetch(documents: Record<string, unknown>) {
  const urls: string[] = [];
  const fetchJson = async (url: string): Promise<unknown> => {
    urls.push(url);
    if (!(url in documents)) throw new IrsaError('FETCH_STATUS', `${url} answers HTTP 404.`, 'Publish it.');
    return documents[url];
  };
  return { urls, fetchJson };
}

const DISCOVERY = {
  issuer: ISSUER,
  jwks_uri: `${ISSUER}/openid/v1/jwks`,
  response_types_supported: ['id_token'],
  subject_types_supported: ['public'],
  id_token_signing_alg_values_supported: ['ES256', 'RS256'],
};
const SITE = {
  [`${ISSUER}/.well-known/openid-configuration`]: DISCOVERY,
  [`${ISSUER}/openid/v1/jwks`]: JWKS,
};

describe('verifyToken: happy paths', () => {
  it('accepts an RS256 token signed with jose, fetching discovery then the jwks_uri', async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', kid: RSA_KID })
      .sign(privateKey('rsa-2048'));
    const { urls, fetchJson } = fakeFetch(SITE);
    const verified = await verifyToken(token, { issuer: ISSUER, audiences: AUDIENCES, now: NOW, fetchJson });
    expect(urls).toEqual([`${ISSUER}/.well-known/openid-configuration`, `${ISSUER}/openid/v1/jwks`]);
    expect(verified.header).toEqual({ alg: 'RS256', kid: RSA_KID });
    expect(verified).toMatchObject({ namespace: 'team-a', serviceAccount: 'app' });
    expect(verified.claims).toMatchObject({ sub: 'system:serviceaccount:team-a:app', exp: NOW_S + 3600 });
  });

  it('accepts an ES256 token signed with jose (typ kept) by a retired, still published key', async () => {
    const token = await new SignJWT(claims({ aud: 'sts.amazonaws.com' }))
      .setProtectedHeader({ alg: 'ES256', kid: EC_KID, typ: 'JWT' })
      .sign(privateKey('ec-p256'));
    const { fetchJson } = fakeFetch(SITE);
    const verified = await verifyToken(token, { issuer: ISSUER, audiences: AUDIENCES, now: NOW, fetchJson });
    expect(verified.header).toEqual({ alg: 'ES256', kid: EC_KID, typ: 'JWT' });
    expect(verified.claims.aud).toBe('sts.amazonaws.com');
  });

  it.each([
    ['RS384', 'rsa-2048'],
    ['RS512', 'rsa-2048'],
    ['ES384', 'ec-p384'],
    ['ES512', 'ec-p521'],
  ] as const)('accepts %s', async (alg, name) => {
    const jwk = publicJwkFromSpki(spkiDer(name), alg);
    const token = signRaw({ alg, kid: jwk.kid }, claims(), privateKey(name));
    await expect(check(token, { jwks: { keys: [jwk] } })).resolves.toMatchObject({ header: { alg } });
  });

  it('accepts exactly at the edge of the 5 minute skew', async () => {
    await expect(check(rsaToken(), { now: new Date((NOW_S + 3600 + 300) * 1000) })).resolves.toBeDefined();
    await expect(check(rsaToken({ iat: NOW_S + 300, nbf: NOW_S + 300 }))).resolves.toBeDefined();
  });
});

describe('verifyToken: each failure has its own code', () => {
  it('TOKEN_TOO_LONG over 20,000 characters', async () => {
    const error = await failure(check('a'.repeat(20_001)));
    expect(error.code).toBe('TOKEN_TOO_LONG');
  });

  it.each([
    ['shorter than 4 characters', 'a.b'],
    ['not three segments', 'aaaa.bbbb'],
    ['four segments', `${rsaToken()}.x`],
    ['bad base64url', `${b64({ alg: 'RS256' })}.c*d.sig`],
    ['padded base64url', `${b64({ alg: 'RS256', kid: 'k' })}=.${b64(claims())}.c2ln`],
    ['header not JSON', `${b64('not json')}.${b64(claims())}.c2ln`],
    ['header a JSON array', `${b64([1])}.${b64(claims())}.c2ln`],
    [
      'claims not UTF-8',
      `${b64({ alg: 'RS256', kid: RSA_KID })}.${Buffer.from([0xff, 0xfe]).toString('base64url')}.c2ln`,
    ],
  ])('TOKEN_MALFORMED when %s', async (_name, token) => {
    const error = await failure(check(token));
    expect(error.code).toBe('TOKEN_MALFORMED');
    expect(error.fix).toMatch(/three base64url segments/);
  });

  it.each(['none', 'HS256', 'PS256', 'EdDSA', undefined])('TOKEN_ALG_NOT_ALLOWED for alg %s', async (alg) => {
    const token = `${b64({ alg, kid: RSA_KID })}.${b64(claims())}.`;
    const error = await failure(check(token));
    expect(error.code).toBe('TOKEN_ALG_NOT_ALLOWED');
    expect(error.message).toContain('never "none"');
  });

  it('TOKEN_KID_MISSING', async () => {
    const token = signRaw({ alg: 'RS256' }, claims(), privateKey('rsa-2048'));
    expect((await failure(check(token))).code).toBe('TOKEN_KID_MISSING');
  });

  it('TOKEN_KID_UNKNOWN, quoting what STS says', async () => {
    const error = await failure(check(rsaToken({}, { kid: 'not-published' })));
    expect(error.code).toBe('TOKEN_KID_UNKNOWN');
    expect(error.message).toContain("Couldn't retrieve verification key");
  });

  it('TOKEN_KEY_ALG_MISMATCH when an RS256 token names an EC key', async () => {
    const token = signRaw({ alg: 'RS256', kid: EC_KID }, claims(), privateKey('rsa-2048'));
    expect((await failure(check(token))).code).toBe('TOKEN_KEY_ALG_MISMATCH');
  });

  it('TOKEN_SIGNATURE_INVALID for altered claims, a foreign key, or no signature', async () => {
    const [header, , signature] = rsaToken().split('.');
    const altered = `${header}.${b64(claims({ sub: 'system:serviceaccount:kube-system:admin' }))}.${signature}`;
    expect((await failure(check(altered))).code).toBe('TOKEN_SIGNATURE_INVALID');
    const impostor = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const foreign = signRaw({ alg: 'ES256', kid: EC_KID }, claims(), impostor);
    expect((await failure(check(foreign))).code).toBe('TOKEN_SIGNATURE_INVALID');
    expect((await failure(check(`${header}.${b64(claims())}.`))).code).toBe('TOKEN_SIGNATURE_INVALID');
  });

  it('uses the key a JWKS publishes now, not one imported earlier for the same kid', async () => {
    const token = rsaToken();
    await expect(check(token)).resolves.toMatchObject({ header: { kid: RSA_KID } });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const { n, e } = publicJwkFromSpki(new Uint8Array(other.export({ format: 'der', type: 'spki' })));
    const swapped = { keys: JWKS.keys.map((key) => (key.kid === RSA_KID ? { ...key, n, e } : key)) };
    expect((await failure(check(token, { jwks: swapped }))).code).toBe('TOKEN_SIGNATURE_INVALID');
    await expect(check(token)).resolves.toMatchObject({ header: { kid: RSA_KID } });
  });

  it.each([
    [`${ISSUER}/`, 'trailing slash'],
    ['https://OIDC.example.com/team-a', 'letter case'],
    ['http://oidc.example.com/team-a', 'scheme'],
    ['https://other.example.com', 'is not'],
  ])('TOKEN_ISSUER_MISMATCH for iss %s, saying how it differs (%s)', async (iss, how) => {
    const error = await failure(check(rsaToken({ iss })));
    expect(error.code).toBe('TOKEN_ISSUER_MISMATCH');
    expect(error.message).toContain(how);
    expect(error.fix).toContain(ISSUER);
  });

  it('TOKEN_AUDIENCE_MISMATCH for a wrong or missing aud', async () => {
    const wrong = await failure(check(rsaToken({ aud: ['https://kubernetes.default.svc'] })));
    expect(wrong.code).toBe('TOKEN_AUDIENCE_MISMATCH');
    expect(wrong.message).toContain('https://kubernetes.default.svc');
    expect((await failure(check(rsaToken({ aud: undefined })))).code).toBe('TOKEN_AUDIENCE_MISMATCH');
    expect((await failure(check(rsaToken({ aud: [1] })))).code).toBe('TOKEN_AUDIENCE_MISMATCH');
  });

  it('TOKEN_EXPIRED past exp + 5 minutes', async () => {
    const error = await failure(check(rsaToken(), { now: new Date((NOW_S + 3600 + 301) * 1000) }));
    expect(error.code).toBe('TOKEN_EXPIRED');
  });

  it('TOKEN_NOT_YET_VALID before nbf - 5 minutes', async () => {
    expect((await failure(check(rsaToken({ nbf: NOW_S + 301 })))).code).toBe('TOKEN_NOT_YET_VALID');
  });

  it('TOKEN_ISSUED_IN_FUTURE when iat is beyond now + 5 minutes', async () => {
    expect((await failure(check(rsaToken({ iat: NOW_S + 301, nbf: undefined })))).code).toBe(
      'TOKEN_ISSUED_IN_FUTURE',
    );
  });

  it.each([
    ['exp missing', { exp: undefined }],
    ['iat missing', { iat: undefined }],
    ['exp a string', { exp: String(NOW_S + 3600) }],
    ['nbf a string', { nbf: 'soon' }],
  ])('TOKEN_CLAIM_INVALID when %s', async (_name, extra) => {
    expect((await failure(check(rsaToken(extra)))).code).toBe('TOKEN_CLAIM_INVALID');
  });

  it.each([
    'system:serviceaccount:Team-A:app',
    'system:serviceaccount:team-a',
    'system:serviceaccount:team-a:app:extra',
    'system:serviceaccounts:team-a:app',
    'alice@example.com',
    'system:serviceaccount::app',
    `system:serviceaccount:${'a'.repeat(64)}:app`,
    42,
  ])('TOKEN_SUBJECT_INVALID for sub %j', async (sub) => {
    expect((await failure(check(rsaToken({ sub })))).code).toBe('TOKEN_SUBJECT_INVALID');
  });

  it('JWKS_INVALID when the JWKS has no keys array', async () => {
    expect((await failure(check(rsaToken(), { jwks: { keys: 'x' } }))).code).toBe('JWKS_INVALID');
    expect((await failure(check(rsaToken(), { jwks: { keys: [null] } }))).code).toBe('JWKS_INVALID');
  });

  it("JWKS_INVALID, not a crash, when a key's kty or kid is not a string (found by fuzzing)", async () => {
    const kid = OPENSSL_KIDS['rsa-2048'];
    for (const bad of [
      { kid, kty: Object.create(null) },
      { kid, kty: ['RSA'] },
      { kid },
      { kid: { toString: null }, kty: 'RSA' },
    ]) {
      expect((await failure(check(rsaToken(), { jwks: { keys: [bad] } }))).code).toBe('JWKS_INVALID');
    }
  });

  it('JWKS_PRIVATE_MEMBER when the JWKS publishes a private key', async () => {
    const leaked = { keys: [{ ...privateKey('rsa-2048').export({ format: 'jwk' }), kid: RSA_KID }] };
    expect((await failure(check(rsaToken(), { jwks: leaked }))).code).toBe('JWKS_PRIVATE_MEMBER');
  });

  it('JWKS_KEY_INVALID for an RSA key under 2048 bits', async () => {
    const small = privateKey('rsa-1024-too-small');
    const jwk = { ...small.export({ format: 'jwk' }), kid: 'small', alg: 'RS256', use: 'sig' };
    const publicOnly = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: 'small', alg: 'RS256' };
    const token = signRaw({ alg: 'RS256', kid: 'small' }, claims(), small);
    expect((await failure(check(token, { jwks: { keys: [publicOnly] } }))).code).toBe('JWKS_KEY_INVALID');
  });

  it('VERIFY_AUDIENCES_EMPTY and VERIFY_TIME_INVALID for bad options', async () => {
    expect((await failure(check(rsaToken(), { audiences: [] }))).code).toBe('VERIFY_AUDIENCES_EMPTY');
    expect((await failure(check(rsaToken(), { now: new Date('nope') }))).code).toBe('VERIFY_TIME_INVALID');
  });
});

describe('verifyToken: discovery and JWKS fetching', () => {
  const run = (documents: Record<string, unknown>, token = rsaToken()) =>
    verifyToken(token, {
      issuer: ISSUER,
      audiences: AUDIENCES,
      now: NOW,
      fetchJson: fakeFetch(documents).fetchJson,
    });
  const discoveryUrl = `${ISSUER}/.well-known/openid-configuration`;

  it('checks the token iss before fetching anything', async () => {
    const { urls, fetchJson } = fakeFetch(SITE);
    const error = await failure(
      verifyToken(rsaToken({ iss: `${ISSUER}/` }), {
        issuer: ISSUER,
        audiences: AUDIENCES,
        now: NOW,
        fetchJson,
      }),
    );
    expect(error.code).toBe('TOKEN_ISSUER_MISMATCH');
    expect(urls).toEqual([]);
  });

  it('DISCOVERY_FETCH_FAILED keeps the fetch error and its fix', async () => {
    const error = await failure(run({}));
    expect(error.code).toBe('DISCOVERY_FETCH_FAILED');
    expect(error.message).toContain('HTTP 404');
    expect(error.detail).toMatchObject({ causeCode: 'FETCH_STATUS' });
  });

  it('DISCOVERY_INVALID when it is not an object', async () => {
    expect((await failure(run({ [discoveryUrl]: ['x'] }))).code).toBe('DISCOVERY_INVALID');
  });

  it('DISCOVERY_ISSUER_MISMATCH when the discovery issuer has a trailing slash', async () => {
    const error = await failure(run({ ...SITE, [discoveryUrl]: { ...DISCOVERY, issuer: `${ISSUER}/` } }));
    expect(error.code).toBe('DISCOVERY_ISSUER_MISMATCH');
    expect(error.message).toContain('trailing slash');
  });

  it('DISCOVERY_JWKS_URI_INVALID when jwks_uri is missing or not https', async () => {
    expect((await failure(run({ [discoveryUrl]: { issuer: ISSUER } }))).code).toBe(
      'DISCOVERY_JWKS_URI_INVALID',
    );
    const http = {
      [discoveryUrl]: { ...DISCOVERY, jwks_uri: 'http://oidc.example.com/team-a/openid/v1/jwks' },
    };
    expect((await failure(run(http))).code).toBe('DISCOVERY_JWKS_URI_INVALID');
  });

  it('JWKS_FETCH_FAILED when the jwks_uri does not answer', async () => {
    expect((await failure(run({ [discoveryUrl]: DISCOVERY }))).code).toBe('JWKS_FETCH_FAILED');
  });

  it('works for a loopback http issuer (local mode)', async () => {
    const local = 'http://127.0.0.1:8900';
    const token = rsaToken({ iss: local });
    const { fetchJson } = fakeFetch({
      [`${local}/.well-known/openid-configuration`]: {
        ...DISCOVERY,
        issuer: local,
        jwks_uri: `${local}/openid/v1/jwks`,
      },
      [`${local}/openid/v1/jwks`]: JWKS,
    });
    await expect(
      verifyToken(token, { issuer: local, audiences: AUDIENCES, now: NOW, fetchJson }),
    ).resolves.toBeDefined();
  });
});

describe('helpers', () => {
  it('decodeTokenUnverified returns header and claims', () => {
    expect(decodeTokenUnverified(rsaToken())).toEqual({
      header: { alg: 'RS256', kid: RSA_KID },
      claims: claims(),
    });
  });

  it('parseServiceAccountSubject accepts dotted service-account names', () => {
    expect(parseServiceAccountSubject('system:serviceaccount:kube-system:my.sa-1')).toEqual({
      namespace: 'kube-system',
      serviceAccount: 'my.sa-1',
    });
  });

  it('describeIssuerDifference names the missing slash', () => {
    expect(describeIssuerDifference('https://a', 'https://a/')).toContain('lacks the trailing slash');
  });
});
