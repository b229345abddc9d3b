/** `irsa-anywhere verify`: verify a token against a live issuer, the way STS does. */
import { IrsaError, isIrsaError } from '#core/errors.ts';
import { issuerHostPath, validateIssuerUrl } from '#core/issuer.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { evaluateTrustPolicy, parsePolicy } from '#core/trust-policy.ts';
import { verifyToken } from '#core/verify-token.ts';
import { jsonOption } from '../lib/cli-options.ts';
import { EXIT, ExitCode, parseTimeFlag, printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { fetchJson } from '../lib/fetch-json.ts';
import { readTextInput } from '../lib/read-input.ts';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Parses the --trust-policy file, naming it in the error (exit 2: the file given is wrong). */
function parsePolicyFile(file: string, text: string): void {
  try {
    parsePolicy(text);
  } catch (error) {
    if (!isIrsaError(error, 'TRUST_POLICY_INVALID')) throw error;
    throw new IrsaError(error.code, `--trust-policy ${file}: ${error.message}`, error.fix, { cause: error });
  }
}

/** The Federated principals of a policy that name this issuer's OIDC provider. */
function providerArnsIn(policyText: string, issuer: string): string[] {
  const suffix = `:oidc-provider/${issuerHostPath(issuer)}`;
  const found = new Set<string>();
  for (const match of policyText.matchAll(/"(arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/[^"]+)"/g)) {
    if (match[1]?.endsWith(suffix)) found.add(match[1]);
  }
  return [...found];
}

interface VerifyOptions {
  issuer: string;
  token: string;
  audience?: string[];
  trustPolicy?: string;
  json?: boolean;
  at?: string;
}

export const register: Register = (program, io, setExit) => {
  program
    .command('verify')
    .description(
      "Fetch the issuer's discovery document and JWKS and verify a token the way STS does. Exit 0 when accepted.",
    )
    .requiredOption('--issuer <url>', 'issuer URL (https; http only on loopback)')
    .requiredOption('--token <file>', 'file holding the token, or - for stdin')
    .option('--audience <aud>', 'accepted audience (repeatable); default sts.amazonaws.com', collect)
    .option('--trust-policy <file>', 'also evaluate this IAM role trust policy against the token')
    .option('--at <iso-time>', 'verify as if at this time (testing)')
    .addOption(jsonOption('print the result as JSON'))
    .action(async (opts: VerifyOptions) => {
      setExit(
        await runCommand(
          io,
          async () => {
            const issuer = validateIssuerUrl(opts.issuer, { allowLoopbackHttp: true });
            // A pasted Authorization header ("Bearer <jwt>") is the token with a prefix.
            const token = (await readTextInput(opts.token, 'token', 1_000_000))
              .trim()
              .replace(/^(?:authorization:\s*)?bearer\s+/i, '');
            // Read and parse the policy first: a broken file is an input error, not "DENIES".
            const policyText =
              opts.trustPolicy === undefined
                ? undefined
                : await readTextInput(opts.trustPolicy, 'trust policy', 100_000);
            if (policyText !== undefined) parsePolicyFile(opts.trustPolicy ?? '-', policyText);
            const now = opts.at === undefined ? new Date() : parseTimeFlag('--at', opts.at);
            let verified: Awaited<ReturnType<typeof verifyToken>>;
            try {
              verified = await verifyToken(token, {
                issuer,
                audiences: opts.audience ?? [DEFAULT_AUDIENCE],
                now,
                fetchJson: (url) => fetchJson(url),
              });
            } catch (error) {
              if (opts.json && error instanceof IrsaError) {
                printJson(io, {
                  ok: false,
                  accepted: false,
                  code: error.code,
                  message: error.message,
                  fix: error.fix,
                });
                throw new ExitCode(EXIT.failed);
              }
              throw error;
            }
            let trust: { allowed: boolean; reasons: string[] } | undefined;
            if (policyText !== undefined) {
              const providerArn = providerArnsIn(policyText, issuer)[0];
              trust =
                providerArn === undefined
                  ? {
                      allowed: false,
                      reasons: [
                        `No Federated principal in the policy names the OIDC provider for ${issuerHostPath(issuer)}. Fix: use irsa-anywhere trust-policy to generate it.`,
                      ],
                    }
                  : evaluateTrustPolicy(policyText, {
                      providerArn,
                      issuer,
                      claims: { sub: verified.claims.sub, aud: verified.claims.aud },
                    });
            }
            // `accepted` is about the token (as STS checks it); `ok` also needs the policy to allow it.
            const ok = trust?.allowed ?? true;
            if (opts.json) {
              printJson(io, {
                ok,
                accepted: true,
                kid: verified.header.kid,
                alg: verified.header.alg,
                sub: verified.claims.sub,
                aud: verified.claims.aud,
                exp: verified.claims.exp,
                trustPolicy: trust,
              });
            } else {
              io.out(
                `token: ACCEPTED (sub ${verified.claims.sub}, kid ${verified.header.kid}, ${verified.header.alg}, expires ${new Date(verified.claims.exp * 1000).toISOString()})`,
              );
              if (trust !== undefined) {
                io.out(`trust policy: ${trust.allowed ? 'ALLOWS' : 'DENIES'} this token`);
                for (const reason of trust.reasons) io.out(`  - ${reason}`);
              }
            }
            if (!ok) throw new ExitCode(EXIT.failed);
          },
          { json: opts.json },
        ),
      );
    });
};
