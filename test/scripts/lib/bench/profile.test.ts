import { describe, expect, it } from 'vitest';
import { profileGroup, summarizeProfile } from '#scripts/lib/bench/profile.ts';

describe('profileGroup', () => {
  it('groups scoped and plain packages, node internals, our code and V8 pseudo-frames', () => {
    expect(
      profileGroup('file:///r/node_modules/@smithy/core/dist-cjs/submodules/client/index.js', 'send'),
    ).toBe('@smithy/core');
    expect(profileGroup('file:///r/node_modules/tsx/dist/esm/index.mjs', 'x')).toBe('tsx');
    expect(profileGroup('node:internal/http2/core', 'respond')).toBe('node:http2');
    expect(profileGroup('node:events', 'emit')).toBe('node:events');
    expect(profileGroup('file:///r/scripts/lib/signer/service.ts', 'sign')).toBe('irsa-anywhere');
    expect(profileGroup('', '(garbage collector)')).toBe('garbage collector');
    expect(profileGroup('', '(idle)')).toBe('idle');
    expect(profileGroup('', 'writev')).toBe('native');
  });
});

describe('summarizeProfile', () => {
  const frame = (url: string, functionName = 'f') => ({ url, functionName });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('', '(idle)') },
      { id: 2, callFrame: frame('file:///r/node_modules/@smithy/core/x.js') },
      { id: 3, callFrame: frame('file:///r/node_modules/@aws-sdk/core/y.js') },
      { id: 4, callFrame: frame('node:internal/crypto/hash') },
    ],
    // 6 idle samples (excluded), then 3 + 1 + 1 busy ones.
    samples: [1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 4],
  };
  it('shares busy samples by group, largest first, idle excluded', () => {
    expect(summarizeProfile(profile)).toEqual([
      { group: '@smithy/core', percent: 60 },
      { group: '@aws-sdk/core', percent: 20 },
      { group: 'node:crypto', percent: 20 },
    ]);
  });
  it('folds groups under the threshold into other', () => {
    expect(summarizeProfile(profile, 25)).toEqual([
      { group: '@smithy/core', percent: 60 },
      { group: 'other', percent: 40 },
    ]);
  });
  it('falls back to hit counts and answers nothing for an idle profile', () => {
    expect(summarizeProfile({ nodes: [{ id: 2, callFrame: frame('node:events'), hitCount: 5 }] })).toEqual([
      { group: 'node:events', percent: 100 },
    ]);
    expect(summarizeProfile({ nodes: [{ id: 1, callFrame: frame('', '(idle)') }], samples: [1] })).toEqual(
      [],
    );
  });
});
