/**
 * Issuer URL rules. The token's `iss`, the discovery `issuer` and the IAM OIDC provider URL must be
 * byte-for-byte equal, and IAM compares case-sensitively, so we accept only the one canonical
 * spelling: `https://<lowercase host>[/<path>]`, no trailing slash, query, fragment, port or
 * userinfo, at most 255 characters. Plain `http://` (with a port) is allowed only for a loopback
 * host (127.0.0.0/8, localhost, [::1]) and only when the caller asks for it (local mode).
 */
import { type ErrorCode, IrsaError } from './errors.ts';

/** IAM's limit on an OIDC provider URL. */
export const MAX_ISSUER_LENGTH = 255;

/** Options for {@link validateIssuerUrl}. */
export interface IssuerOptions {
  /** Allow `http://` and a port for a loopback host (local mode only). */
  allowLoopbackHttp?: boolean;
}

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const PATH_SEGMENT = /^([A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;

function fail(code: ErrorCode, url: string, problem: string, fix: string): IrsaError {
  return new IrsaError(code, `Issuer URL "${url}" ${problem}.`, fix, { detail: { issuer: url } });
}

/** True for a loopback host name as written in a URL authority (lowercase expected). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || (IPV4.test(host) && host.startsWith('127.'));
}

function splitHostPort(authority: string): { host: string; port: string | undefined } {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end === -1) return { host: authority, port: undefined };
    const rest = authority.slice(end + 1);
    return { host: authority.slice(0, end + 1), port: rest.startsWith(':') ? rest.slice(1) : undefined };
  }
  const colon = authority.lastIndexOf(':');
  if (colon === -1) return { host: authority, port: undefined };
  return { host: authority.slice(0, colon), port: authority.slice(colon + 1) };
}

function isValidHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  if (IPV4.test(host)) return true;
  return (
    host.split('.').every((label) => DNS_LABEL.test(label)) && !/^\d+$/.test(host.split('.').at(-1) ?? '')
  );
}

/**
 * Checks an issuer URL and returns it unchanged when it is canonical. Throws an `IrsaError` whose
 * code says what is wrong (`ISSUER_EMPTY`, `ISSUER_TOO_LONG`, `ISSUER_INVALID`, `ISSUER_NOT_HTTPS`,
 * `ISSUER_SCHEME_CASE`, `ISSUER_USERINFO`, `ISSUER_PORT`, `ISSUER_HOST_INVALID`, `ISSUER_HOST_CASE`,
 * `ISSUER_QUERY`, `ISSUER_FRAGMENT`, `ISSUER_TRAILING_SLASH`, `ISSUER_PATH_INVALID`) and whose fix
 * gives the corrected URL where one can be derived.
 */
export function validateIssuerUrl(url: string, options: IssuerOptions = {}): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new IrsaError(
      'ISSUER_EMPTY',
      'The issuer URL is empty.',
      'Set the issuer to an https URL such as "https://oidc.example.com/my-cluster".',
    );
  }
  if (url.length > MAX_ISSUER_LENGTH) {
    throw fail(
      'ISSUER_TOO_LONG',
      `${url.slice(0, 40)}…`,
      `is ${url.length} characters long; IAM accepts at most ${MAX_ISSUER_LENGTH}`,
      'Use a shorter host name or path.',
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\s\u0000-\u001f\u007f]/.test(url)) {
    throw fail(
      'ISSUER_INVALID',
      url,
      'contains whitespace or control characters',
      `Remove them: use "${url.replace(/\s/g, '')}".`,
    );
  }
  const shape = URL_SHAPE.exec(url);
  if (shape === null) {
    throw fail(
      'ISSUER_INVALID',
      url,
      'is not an absolute URL',
      'Write it as "https://<host>/<optional path>", for example "https://oidc.example.com/my-cluster".',
    );
  }
  const scheme = shape[1] ?? '';
  const authority = shape[2] ?? '';
  const path = shape[3] ?? '';
  const query = shape[4];
  const fragment = shape[5];
  const rest = url.slice(scheme.length);
  const lowerScheme = scheme.toLowerCase();

  if (authority.includes('@')) {
    const fixed = `${scheme}://${authority.slice(authority.lastIndexOf('@') + 1)}${path}`;
    throw fail(
      'ISSUER_USERINFO',
      url,
      'contains a user name or password',
      `Remove the credentials: use "${fixed}".`,
    );
  }
  const { host, port } = splitHostPort(authority);
  const loopback = isLoopbackHost(host.toLowerCase());
  const localAllowed = options.allowLoopbackHttp === true && loopback;

  if (scheme !== lowerScheme && (lowerScheme === 'https' || lowerScheme === 'http')) {
    throw fail(
      'ISSUER_SCHEME_CASE',
      url,
      'has an upper-case scheme; IAM compares issuers case-sensitively',
      `Use the lower-case scheme: "${lowerScheme}${rest}".`,
    );
  }
  if (scheme !== 'https' && !(scheme === 'http' && localAllowed)) {
    if (loopback) {
      // "Use https://127.0.0.1:8900" would be impossible advice: nothing serves that.
      throw fail(
        'ISSUER_NOT_HTTPS',
        url,
        `uses "${scheme}://"; an http loopback issuer is only for local mode, and this command needs an issuer AWS can reach`,
        'Use the https issuer of your deployed stack (its IssuerUrl output); the local issuer works with local, verify, token mint and apiserver configure --distro kind.',
      );
    }
    throw fail(
      'ISSUER_NOT_HTTPS',
      url,
      `uses "${scheme}://"; STS only fetches keys over https`,
      `Use https: "https${rest}".`,
    );
  }
  if (host.length === 0) {
    throw fail(
      'ISSUER_HOST_INVALID',
      url,
      'has no host',
      'Write it as "https://<host>/<optional path>", for example "https://oidc.example.com/my-cluster".',
    );
  }
  if (port !== undefined && !localAllowed) {
    throw fail(
      'ISSUER_PORT',
      url,
      `has a port (":${port}"); IAM OIDC providers cannot have one`,
      `Serve the issuer on the default https port and drop the port: use "${scheme}://${host}${path.replace(/\/+$/, '')}".`,
    );
  }
  if (port !== undefined && (!/^[1-9]\d{0,4}$/.test(port) || Number(port) > 65_535)) {
    throw fail('ISSUER_PORT', url, `has an invalid port ":${port}"`, 'Use a port number from 1 to 65535.');
  }
  if (host !== host.toLowerCase()) {
    throw fail(
      'ISSUER_HOST_CASE',
      url,
      'has upper-case letters in the host; IAM compares issuers case-sensitively and tokens would not match',
      `Use the lower-case host: "${scheme}://${authority.toLowerCase()}${path}${query ?? ''}${fragment ?? ''}".`,
    );
  }
  if (!loopback && !isValidHostName(host)) {
    throw fail(
      'ISSUER_HOST_INVALID',
      url,
      `has an invalid host "${host}"`,
      'Use a DNS name of letters, digits, hyphens and dots, with no trailing dot.',
    );
  }
  const base = `${scheme}://${authority}${path}`;
  if (query !== undefined) {
    throw fail(
      'ISSUER_QUERY',
      url,
      'has a query string',
      `Remove the query: use "${base.replace(/\/+$/, '')}".`,
    );
  }
  if (fragment !== undefined) {
    throw fail(
      'ISSUER_FRAGMENT',
      url,
      'has a fragment',
      `Remove the fragment: use "${base.replace(/\/+$/, '')}".`,
    );
  }
  if (path.endsWith('/')) {
    throw fail(
      'ISSUER_TRAILING_SLASH',
      url,
      'ends with a slash; the token "iss", the discovery "issuer" and the IAM provider URL must match exactly',
      `Remove the trailing slash: use "${base.replace(/\/+$/, '')}".`,
    );
  }
  if (path !== '') {
    const segments = path.slice(1).split('/');
    const bad = segments.find(
      (segment) => segment === '.' || segment === '..' || !PATH_SEGMENT.test(segment),
    );
    if (bad !== undefined) {
      throw fail(
        'ISSUER_PATH_INVALID',
        url,
        `has an invalid path segment "${bad}"`,
        'Use a path of letters, digits and "-._~" separated by single slashes, for example "/my-cluster".',
      );
    }
  }
  return url;
}

/**
 * The issuer without its scheme, e.g. "oidc.example.com/team-a": the prefix IAM uses for the
 * condition keys `<hostpath>:sub` and `<hostpath>:aud`, and the tail of the OIDC provider ARN.
 */
export function issuerHostPath(issuer: string): string {
  const valid = validateIssuerUrl(issuer, { allowLoopbackHttp: true });
  return valid.slice(valid.indexOf('://') + 3);
}
