/**
 * Rotation policy: how often keys rotate, how long a new key is published before it signs, and
 * how long a retired key stays published. Derived and checked here so every caller (Lambda config,
 * local CLI, simulation) gets the same rules.
 */
import { IrsaError } from './errors.ts';
import type { KeySpec } from './keyset.ts';

/** Clock skew STS tolerates, and that we add to every retention. */
export const CLOCK_SKEW_SECONDS = 300;

/** The knobs an operator sets. */
export interface PolicyInput {
  keySpec: KeySpec;
  rotationPeriodDays: number;
  publishLeadHours: number;
  maxTokenLifetimeSeconds: number;
  jwksMaxAgeSeconds: number;
  /** How long a node (key-sync, signer refresh) may take to pick up a change. */
  nodeSyncLagSeconds: number;
}

/** The policy in seconds, as the planner uses it. */
export interface RotationPolicy {
  keySpec: KeySpec;
  rotationPeriodSeconds: number;
  publishLeadSeconds: number;
  /** How long a retired key stays published: max token lifetime + skew + JWKS cache + node lag. */
  retentionSeconds: number;
  maxTokenLifetimeSeconds: number;
  jwksMaxAgeSeconds: number;
  nodeSyncLagSeconds: number;
}

/** Defaults: weekly rotation like EKS, a generous publish lead, day-long tokens. */
export const DEFAULT_POLICY_INPUT: Readonly<PolicyInput> = {
  keySpec: 'RSA_2048',
  rotationPeriodDays: 7,
  publishLeadHours: 24,
  maxTokenLifetimeSeconds: 86_400,
  jwksMaxAgeSeconds: 300,
  nodeSyncLagSeconds: 900,
};

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new IrsaError(
      'POLICY_INVALID',
      `${name} must be a positive number, got ${value}.`,
      `Set ${name} to a positive number.`,
    );
  }
}

/**
 * Turns operator settings into a checked policy. Throws `POLICY_INVALID` naming the setting when a
 * value is out of range or the publish lead cannot cover caches and node lag.
 */
export function makePolicy(input: PolicyInput): RotationPolicy {
  positive('rotationPeriodDays', input.rotationPeriodDays);
  positive('publishLeadHours', input.publishLeadHours);
  positive('maxTokenLifetimeSeconds', input.maxTokenLifetimeSeconds);
  positive('jwksMaxAgeSeconds', input.jwksMaxAgeSeconds);
  if (!Number.isFinite(input.nodeSyncLagSeconds) || input.nodeSyncLagSeconds < 0) {
    throw new IrsaError(
      'POLICY_INVALID',
      `nodeSyncLagSeconds must be zero or more, got ${input.nodeSyncLagSeconds}.`,
      'Set nodeSyncLagSeconds to zero or more.',
    );
  }
  if (input.maxTokenLifetimeSeconds < 600) {
    throw new IrsaError(
      'POLICY_INVALID',
      `maxTokenLifetimeSeconds is ${input.maxTokenLifetimeSeconds}, below the 600 s kube-apiserver allows.`,
      'Set maxTokenLifetimeSeconds to 600 or more.',
    );
  }
  const rotationPeriodSeconds = Math.round(input.rotationPeriodDays * 86_400);
  const publishLeadSeconds = Math.round(input.publishLeadHours * 3_600);
  const minLead = input.jwksMaxAgeSeconds + input.nodeSyncLagSeconds;
  if (publishLeadSeconds < minLead) {
    throw new IrsaError(
      'POLICY_INVALID',
      `publishLeadHours (${input.publishLeadHours} h) is shorter than the JWKS cache max-age plus node sync lag (${minLead} s).`,
      `Raise publishLeadHours to at least ${Math.ceil(minLead / 360) / 10}.`,
    );
  }
  if (publishLeadSeconds >= rotationPeriodSeconds) {
    throw new IrsaError(
      'POLICY_INVALID',
      `publishLeadHours (${input.publishLeadHours} h) must be shorter than rotationPeriodDays (${input.rotationPeriodDays} d).`,
      'Lower publishLeadHours or raise rotationPeriodDays.',
    );
  }
  return {
    keySpec: input.keySpec,
    rotationPeriodSeconds,
    publishLeadSeconds,
    retentionSeconds:
      input.maxTokenLifetimeSeconds + CLOCK_SKEW_SECONDS + input.jwksMaxAgeSeconds + input.nodeSyncLagSeconds,
    maxTokenLifetimeSeconds: input.maxTokenLifetimeSeconds,
    jwksMaxAgeSeconds: input.jwksMaxAgeSeconds,
    nodeSyncLagSeconds: input.nodeSyncLagSeconds,
  };
}
