/**
 * Classifies AWS SDK failures for doctor and audit: missing credentials and denied calls SKIP, the
 * rest FAIL. The error is read by the tree's one AWS-error reader (functions/adapters/aws/aws-errors.ts).
 */
import { awsErrorName } from '#adapters/aws/aws-errors.ts';

const NO_CREDENTIALS =
  /CredentialsProviderError|ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch/;
const DENIED = /AccessDenied|UnauthorizedOperation|AuthorizationError/;

/** `credentials`, `denied` or `other`, from the SDK error's name. */
export function awsErrorKind(error: unknown): 'credentials' | 'denied' | 'other' {
  const name = awsErrorName(error) ?? '';
  if (NO_CREDENTIALS.test(name)) return 'credentials';
  if (DENIED.test(name)) return 'denied';
  return 'other';
}

/** The error's name and message, for a detail column. */
export function awsErrorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
