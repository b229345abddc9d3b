/**
 * Doctor's shared shapes: one checklist line, the options and injected dependencies, and the
 * context the checks fill in as they run (later checks read what earlier ones found).
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import type { DecodedToken, VerifiedToken } from '#core/verify-token.ts';
import type { StackOutputs } from '../stack/outputs.ts';
import type { HttpFetch } from './http.ts';
import type { KubeClient } from './kube-client.ts';

/** PASS: fine. WARN: works, but fragile. FAIL: STS will refuse. SKIP: could not be checked. */
export type CheckStatus = 'PASS' | 'WARN' | 'FAIL' | 'SKIP';

/** One line of the checklist. `fix` is empty when there is nothing to do. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix: string;
}

/** What the operator asked for (flags of `irsa-anywhere doctor`). */
export interface DoctorOptions {
  stack?: string;
  issuer?: string;
  tokenFile?: string;
  roleArn?: string;
  namespace?: string;
  serviceAccount?: string;
  kubeconfig?: string;
  assume?: boolean;
  /** The audience tokens are requested for and checked against; `sts.amazonaws.com` by default. */
  audience?: string;
}

/** AWS SDK clients, present only when the operator has credentials. */
export interface AwsClients {
  cfn: CloudFormationClient;
  iam: IAMClient;
  sts: STSClient;
}

/** Everything that reaches outside the process. Injected so every check runs offline in tests. */
export interface DoctorDeps {
  fetch: HttpFetch;
  now: () => Date;
  readFile: (path: string) => Promise<string>;
  /** Absent when there are no AWS credentials; `awsUnavailable` then says why. */
  aws?: AwsClients;
  awsUnavailable?: string;
  /** Told what doctor is checking now, for a progress display (optional). */
  progress?: (label: string) => void;
  /** Builds a client from a kubeconfig file (only called when `--kubeconfig` is given). */
  kubeClient?: (kubeconfigPath: string) => Promise<KubeClient>;
}

/** What the checks learn, in order. */
export interface DoctorContext {
  options: DoctorOptions;
  deps: DoctorDeps;
  audience: string;
  issuer?: string;
  /** Set when the issuer URL itself is unusable; issuer-dependent checks skip with it. */
  issuerProblem?: string;
  loopback: boolean;
  stack?: StackOutputs;
  discovery?: Record<string, unknown>;
  jwksUrl?: string;
  jwks?: unknown;
  /** The IAM OIDC provider found for the issuer. */
  provider?: { arn: string; clientIds: string[] };
  kube?: KubeClient;
  /**
   * Why the cluster checks cannot run although --kubeconfig was given (an unusable kubeconfig, an
   * unreachable API server, rejected credentials); they SKIP with it after one FAIL line.
   */
  kubeSkip?: string;
  token?: string;
  decoded?: DecodedToken;
  verified?: VerifiedToken;
}

/**
 * The fix for a kubeconfig doctor cannot read. doctor reads only the file --kubeconfig names (it
 * does not fall back to KUBECONFIG or ~/.kube/config, so cluster checks run only when asked).
 */
export const KUBECONFIG_FIX =
  'Pass --kubeconfig with the path of a kubeconfig kubectl can use, e.g. --kubeconfig "$KUBECONFIG" or --kubeconfig ~/.kube/config.';

/** Builds a result line. */
export function result(
  id: string,
  title: string,
  status: CheckStatus,
  detail: string,
  fix = '',
): CheckResult {
  return { id, title, status, detail, fix };
}
