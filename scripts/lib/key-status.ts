/**
 * The status of a keyset as data, one shape for `status --dir` (local) and `status --stack`: the
 * keys with their states and ages, the last publish and the next scheduled transition. Each mode
 * adds only what it alone knows (local: `problems`; stack: `stack`, `published`, `note`). And the
 * one way an age is written for people ("3d 4h").
 */
import type { KeyState, Keyset, SigningAlg } from '#core/keyset.ts';
import { nextTransition } from '#core/planner.ts';
import type { RotationPolicy } from '#core/policy.ts';

/** One key as `status` shows it. */
export interface KeyStatus {
  kid: string;
  alg: SigningAlg;
  state: KeyState;
  /** True when the key was revoked (`rotate --revoke`); its tokens no longer verify. */
  revoked: boolean;
  /** Seconds since the key was created (0 for a time in the future). */
  ageSeconds: number;
  createdAt: string;
  publishedAt?: string;
  activatedAt?: string;
  retiredAt?: string;
}

/** What `status --json` prints in every mode. */
export interface KeysetStatus {
  cluster: string;
  issuer: string;
  /** The time the status is for (`--at`, or now). */
  at: string;
  keys: KeyStatus[];
  lastPublish: { at: string; kids: string[] } | null;
  nextTransition: { at: string; description: string } | null;
}

/** "3d 4h", "5h 2m", "40s": an age for people. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3_600)}h`;
  if (s >= 3_600) return `${Math.floor(s / 3_600)}h ${Math.floor((s % 3_600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m`;
  return `${s}s`;
}

/** The status of `keyset` under `policy` at `now`. Pure. */
export function keysetStatus(keyset: Keyset, policy: RotationPolicy, now: Date): KeysetStatus {
  const next = nextTransition(keyset, policy, now);
  return {
    cluster: keyset.cluster,
    issuer: keyset.issuer,
    at: now.toISOString(),
    keys: keyset.keys.map((key) => ({
      kid: key.kid,
      alg: key.alg,
      state: key.state,
      revoked: key.revoked ?? false,
      ageSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(key.createdAt)) / 1000)),
      createdAt: key.createdAt,
      ...(key.publishedAt === undefined ? {} : { publishedAt: key.publishedAt }),
      ...(key.activatedAt === undefined ? {} : { activatedAt: key.activatedAt }),
      ...(key.retiredAt === undefined ? {} : { retiredAt: key.retiredAt }),
    })),
    lastPublish:
      keyset.lastPublish === undefined
        ? null
        : { at: keyset.lastPublish.at, kids: [...keyset.lastPublish.kids] },
    nextTransition: next === null ? null : { at: next.at.toISOString(), description: next.description },
  };
}
