/**
 * What the rotation simulation takes and what it reports; see docs/reliability.md for what each
 * figure means.
 */
import type { PolicyInput, RotationPolicy } from '#core/policy.ts';

/** What to simulate. Every field but `dir` and `seed` has a default. */
export interface SimulationOptions {
  /** An empty directory for the local issuer state (real files are written there). */
  dir: string;
  seed: number;
  years?: number;
  /** Rotation settings; defaults to the product defaults with P-256 keys (fast to generate). */
  policy?: Partial<PolicyInput>;
  /** Probability that a scheduled hourly run does not happen. */
  missedRunRate?: number;
  /** Probability, per hour, that an outage of 1–48 hours starts (no runs at all). */
  outageRate?: number;
  /** Mean virtual seconds between two tokens issued by the cluster. */
  tokenIntervalSeconds?: number;
  /** Control-plane nodes signing tokens, each with its own sync lag. */
  nodes?: number;
  /** Token verifiers (STS front ends), each with its own JWKS cache. */
  verifiers?: number;
  /** Revoke the active key once, at a random time in the middle of the run. */
  revoke?: boolean;
  /**
   * Call the runner on every scheduled run. By default a run whose plan is empty (the steady
   * state: the runner would make exactly one read and nothing else, as its own tests prove) is
   * counted without touching the disk, which makes a 5-year run take seconds.
   */
  fullRuns?: boolean;
  /**
   * The longest a verifier caches the JWKS. Defaults to the policy's jwksMaxAge; a larger value
   * models a misconfigured cache and must make the simulation report failures (a control).
   */
  verifierCacheMaxAgeSeconds?: number;
  /** The longest a node takes to pick up a new active key. Defaults to the policy's nodeSyncLag. */
  nodeSyncLagSeconds?: number;
}

/** The figures of one run. Times are ISO strings, durations hours unless named otherwise. */
export interface SimulationReport {
  seed: number;
  years: number;
  policy: RotationPolicy;
  scheduledRuns: number;
  missedRuns: number;
  /** Runs that called the real runner (every run with something due, or all with fullRuns). */
  rotationRuns: number;
  /** Runs with nothing due, counted without calling the runner (0 with fullRuns). */
  steadyStateRunsSkipped: number;
  steps: Record<string, number>;
  keysCreated: number;
  publishes: number;
  documentsCheckedForPrivateMembers: number;
  tokensIssued: number;
  verifications: number;
  accepted: number;
  /** Rejected while exp was in the future and the key not revoked. Must be 0. */
  rejectedValid: number;
  /** Rejected because their key had been revoked (intended). */
  rejectedRevoked: number;
  /**
   * Rejected because they were signed by a key an emergency revoke made active before verifier
   * caches (≤ jwksMaxAge) could hold it (intended: revoking the only active key breaks this).
   */
  rejectedEmergencyKey: number;
  /** Accepted after their key was revoked and the cache bound (jwksMaxAge) had passed. Must be 0. */
  acceptedRevoked: number;
  /** Accepted after revocation but inside the cache bound (expected, bounded by jwksMaxAge). */
  acceptedRevokedWithinCacheBound: number;
  /** Tokens a node could not sign (key gone while the node still used it), not counting revoked keys. Must be 0. */
  signFailures: number;
  /** Signing attempts with a revoked, destroyed key during the node sync lag (intended failures). */
  signFailuresRevokedKey: number;
  /** A key signed before it had been public for publishLead (emergency keys excepted). Must be 0. */
  signedBeforePublishLead: number;
  /** A publish lacked the active key, or was empty. Must be 0. */
  publishInvariantViolations: number;
  maxKeysPublished: number;
  maxActiveKeyAgeHours: number;
  revoked?: { kid: string; at: string; replacedBy: 'promoted-pending' | 'new-key' };
  /** The first few rejections of valid tokens or acceptances of revoked ones, for debugging. */
  examples: string[];
  wallClockMs: number;
}

/** The figures that must be zero for a run to pass, by name. */
export function violations(report: SimulationReport): Record<string, number> {
  return {
    rejectedValid: report.rejectedValid,
    acceptedRevoked: report.acceptedRevoked,
    signFailures: report.signFailures,
    signedBeforePublishLead: report.signedBeforePublishLead,
    publishInvariantViolations: report.publishInvariantViolations,
  };
}
