/** Classifies AWS SDK failures for doctor: missing credentials and denied calls SKIP, the rest FAIL. */

const NO_CREDENTIALS =
  /CredentialsProviderError|ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch/;
const DENIED = /AccessDenied|UnauthorizedOperation|AuthorizationError/;

/** `credentials`, `denied` or `other`, from the SDK error's name. */
export function awsErrorKind(error: unknown): 'credentials' | 'denied' | 'other' {
  const name = error instanceof Error ? error.name : '';
  if (NO_CREDENTIALS.test(name)) return 'credentials';
  if (DENIED.test(name)) return 'denied';
  return 'other';
}

/** The error's name and message, for a detail column. */
export function awsErrorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
