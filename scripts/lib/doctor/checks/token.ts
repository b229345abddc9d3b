/**
 * Token: verified the way STS does, with core `verifyTokenWithJwks` against the JWKS doctor
 * fetched. Each TOKEN_* code lands on its own line. Verification stops at the first failure (as
 * STS does), so after an issuer, audience or time failure doctor re-runs it with that one check
 * relaxed, to report the later checks too; after a key or signature failure the claims are SKIP.
 */
import { isIrsaError } from '#core/errors.ts';
import { validateIssuerUrl } from '#core/issuer.ts';
import { isAcceptedAlg } from '#core/jwk.ts';
import { CLOCK_SKEW_SECONDS } from '#core/policy.ts';
import { type VerifiedToken, verifyTokenWithJwks } from '#core/verify-token.ts';
import { type CheckResult, type CheckStatus, type DoctorContext, result } from '../types.ts';

interface Stage {
  id: string;
  title: string;
  codes: readonly string[];
}

/** The token lines in verification order, and the error codes that fail each. */
export const TOKEN_STAGES: readonly Stage[] = [
  {
    id: 'token.format',
    title: 'Token is a compact JWT of 4 to 20,000 characters',
    codes: ['TOKEN_MALFORMED', 'TOKEN_TOO_LONG'],
  },
  {
    id: 'token.alg',
    title: 'Token alg is one STS accepts (RS256/384/512, ES256/384/512)',
    codes: ['TOKEN_ALG_NOT_ALLOWED'],
  },
  {
    id: 'token.kid',
    title: "Token kid is in the issuer's published JWKS",
    codes: ['TOKEN_KID_MISSING', 'TOKEN_KID_UNKNOWN', 'JWKS_INVALID', 'JWKS_PRIVATE_MEMBER'],
  },
  {
    id: 'token.signature',
    title: 'Token signature verifies with the published key',
    codes: ['TOKEN_SIGNATURE_INVALID', 'TOKEN_KEY_ALG_MISMATCH', 'JWKS_KEY_INVALID'],
  },
  { id: 'token.iss', title: 'Token iss equals the issuer exactly', codes: ['TOKEN_ISSUER_MISMATCH'] },
  { id: 'token.aud', title: 'Token aud holds an accepted audience', codes: ['TOKEN_AUDIENCE_MISMATCH'] },
  {
    id: 'token.time',
    title: `Token is valid now (exp, nbf, iat with ${CLOCK_SKEW_SECONDS / 60} min skew)`,
    codes: ['TOKEN_EXPIRED', 'TOKEN_NOT_YET_VALID', 'TOKEN_ISSUED_IN_FUTURE', 'TOKEN_CLAIM_INVALID'],
  },
  {
    id: 'token.sub',
    title: 'Token sub is system:serviceaccount:<namespace>:<name>',
    codes: ['TOKEN_SUBJECT_INVALID'],
  },
];

type Line = { status: CheckStatus; detail: string; fix: string };

function passDetail(id: string, ctx: DoctorContext): string {
  const header = ctx.decoded?.header ?? {};
  const claims = ctx.decoded?.claims ?? {};
  switch (id) {
    case 'token.format':
      return `${ctx.token?.length ?? 0} characters`;
    case 'token.alg':
      return String(header.alg);
    case 'token.kid':
      return String(header.kid);
    case 'token.signature':
      return `verified with key ${String(header.kid)}`;
    case 'token.iss':
      return String(claims.iss);
    case 'token.aud':
      return JSON.stringify(claims.aud);
    case 'token.time': {
      const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
      if (exp === undefined) return 'valid';
      const left = Math.round(exp - ctx.deps.now().getTime() / 1000);
      return `expires ${new Date(exp * 1000).toISOString()} (${left >= 0 ? `in ${Math.round(left / 60)} min` : `${Math.round(-left / 60)} min ago, within the skew`})`;
    }
    case 'token.sub':
      return String(claims.sub);
    default:
      return '';
  }
}

function skipAll(reason: string, fix = ''): CheckResult[] {
  return TOKEN_STAGES.map((stage) => result(stage.id, stage.title, 'SKIP', reason, fix));
}

/** `token.format` … `token.sub`. */
export async function checkToken(ctx: DoctorContext): Promise<CheckResult[]> {
  const token = ctx.token;
  if (token === undefined) return skipAll('skipped: no token');
  const issuer = ctx.issuer;
  if (issuer === undefined || ctx.issuerProblem !== undefined)
    return skipAll(`skipped: ${ctx.issuerProblem ?? 'no issuer'}`);
  const lines = new Map<string, Line>();
  if (ctx.jwks === undefined) {
    // Without a JWKS only the shape can be checked.
    const alg = ctx.decoded?.header.alg;
    if (ctx.decoded === undefined) {
      lines.set('token.format', {
        status: 'FAIL',
        detail: 'the token is not a compact JWT (three base64url segments of JSON)',
        fix: 'Pass the token file content unchanged: no quotes, no line breaks inside.',
      });
    } else {
      lines.set('token.format', { status: 'PASS', detail: `${token.length} characters`, fix: '' });
    }
    if (ctx.decoded !== undefined)
      lines.set(
        'token.alg',
        isAcceptedAlg(alg)
          ? { status: 'PASS', detail: alg, fix: '' }
          : {
              status: 'FAIL',
              detail: `alg ${JSON.stringify(alg ?? null)} is not accepted by STS`,
              fix: 'Sign tokens with RS256 or ES256, as kube-apiserver does.',
            },
      );
    return TOKEN_STAGES.map((stage) => {
      const line = lines.get(stage.id);
      return line === undefined
        ? result(
            stage.id,
            stage.title,
            'SKIP',
            'skipped: the published JWKS could not be read, so the token cannot be verified',
          )
        : result(stage.id, stage.title, line.status, line.detail, line.fix);
    });
  }
  const audiences =
    ctx.provider !== undefined && ctx.provider.clientIds.length > 0 ? ctx.provider.clientIds : [ctx.audience];
  const options = { issuer, audiences: [...audiences], now: ctx.deps.now(), jwks: ctx.jwks };
  let stoppedAt: string | undefined;
  let verified: VerifiedToken | undefined;
  const decide = (upTo: number, id?: string) => {
    for (const stage of TOKEN_STAGES.slice(0, upTo)) {
      if (!lines.has(stage.id)) lines.set(stage.id, { status: 'PASS', detail: '', fix: '' });
    }
    return id;
  };
  for (let attempt = 0; attempt < TOKEN_STAGES.length; attempt += 1) {
    try {
      verified = await verifyTokenWithJwks(token, options);
      decide(TOKEN_STAGES.length);
      break;
    } catch (error) {
      const code = isIrsaError(error) ? error.code : 'UNEXPECTED';
      const index = TOKEN_STAGES.findIndex((stage) => stage.codes.includes(code));
      const message = error instanceof Error ? error.message : String(error);
      if (index === -1 || lines.has(TOKEN_STAGES[index]?.id ?? '')) {
        // Not a token problem we can place (or the same stage twice): stop here.
        const next = TOKEN_STAGES.find((stage) => !lines.has(stage.id));
        if (next !== undefined)
          lines.set(next.id, {
            status: 'FAIL',
            detail: `${code}: ${message}`,
            fix: isIrsaError(error) ? error.fix : '',
          });
        stoppedAt = next?.id;
        break;
      }
      const stage = TOKEN_STAGES[index] as Stage;
      decide(index);
      lines.set(stage.id, {
        status: 'FAIL',
        detail: `${code}: ${message}`,
        fix: isIrsaError(error) ? error.fix : '',
      });
      stoppedAt = stage.id;
      if (!relax(stage.id, ctx, options)) break;
    }
  }
  if (verified !== undefined && [...lines.values()].every((line) => line.status === 'PASS'))
    ctx.verified = verified;
  return TOKEN_STAGES.map((stage) => {
    const line = lines.get(stage.id);
    if (line === undefined) {
      return result(
        stage.id,
        stage.title,
        'SKIP',
        `not checked: verification stopped at ${stoppedAt ?? 'an earlier check'}, as STS does`,
      );
    }
    return result(
      stage.id,
      stage.title,
      line.status,
      line.status === 'PASS' ? passDetail(stage.id, ctx) : line.detail,
      line.fix,
    );
  });
}

/** Lets verification go past a failed claim check; false when it cannot. */
function relax(
  id: string,
  ctx: DoctorContext,
  options: { issuer: string; audiences: string[]; now: Date },
): boolean {
  const claims = ctx.decoded?.claims ?? {};
  if (id === 'token.iss') {
    if (typeof claims.iss !== 'string') return false;
    try {
      options.issuer = validateIssuerUrl(claims.iss, { allowLoopbackHttp: true });
      return true;
    } catch {
      return false;
    }
  }
  if (id === 'token.aud') {
    const aud =
      typeof claims.aud === 'string'
        ? [claims.aud]
        : Array.isArray(claims.aud)
          ? claims.aud.filter((a): a is string => typeof a === 'string')
          : [];
    if (aud.length === 0) return false;
    options.audiences = aud;
    return true;
  }
  if (id === 'token.time') {
    const { iat, nbf, exp } = claims;
    if (typeof iat !== 'number' || typeof exp !== 'number') return false;
    const at = Math.max(iat, typeof nbf === 'number' ? nbf : iat);
    if (at > exp) return false;
    options.now = new Date(at * 1000);
    return true;
  }
  return false;
}
