/**
 * Where a process's CPU time goes, from a V8 CPU profile (`node --cpu-prof`): self time grouped by
 * package (`@smithy/core`, `@aws-sdk/client-kms`, `@grpc/grpc-js`, our own code, node's
 * internals, the garbage collector), as shares of the busy (non-idle) samples.
 */

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string }; hitCount?: number }>;
  samples?: number[];
}

/** One group's share of the busy samples. */
export interface ProfileShare {
  group: string;
  percent: number;
}

/** The group a function belongs to, from its script URL and name. */
export function profileGroup(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'node/V8 (native)';
    return 'native';
  }
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    const first = parts[0] ?? '';
    return first.startsWith('@') ? `${first}/${parts[1] ?? ''}` : first;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[1] ?? url.slice(5)}`;
  if (/\/(functions|scripts)\//.test(url)) return 'irsa-anywhere';
  return 'other';
}

/**
 * Self-time shares per group, largest first, idle excluded; groups under `minPercent` are folded
 * into "other". Uses the sample list when present (each sample is one tick), else hit counts.
 */
export function summarizeProfile(profile: CpuProfile, minPercent = 2): ProfileShare[] {
  const hits = new Map<number, number>();
  if (profile.samples !== undefined && profile.samples.length > 0) {
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  } else {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  }
  const groups = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    const group = profileGroup(node.callFrame.url, node.callFrame.functionName);
    if (group === 'idle') continue;
    busy += count;
    groups.set(group, (groups.get(group) ?? 0) + count);
  }
  if (busy === 0) return [];
  const shares: ProfileShare[] = [];
  let other = 0;
  for (const [group, count] of groups) {
    const percent = (count * 100) / busy;
    if (percent < minPercent || group === 'other') other += percent;
    else shares.push({ group, percent: Math.round(percent * 10) / 10 });
  }
  shares.sort((a, b) => b.percent - a.percent);
  if (other > 0) shares.push({ group: 'other', percent: Math.round(other * 10) / 10 });
  return shares;
}

/** The functions with the most self time (name and script, shares of busy samples), for a closer look. */
export function topFunctions(profile: CpuProfile, count = 10): Array<{ fn: string; percent: number }> {
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFn = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? node.hitCount ?? 0;
    if (n === 0 || node.callFrame.functionName === '(idle)') continue;
    busy += n;
    const file = node.callFrame.url.split('/').slice(-2).join('/');
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${file}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + n);
  }
  return [...byFn]
    .map(([fn, n]) => ({ fn, percent: Math.round((n * 1000) / Math.max(busy, 1)) / 10 }))
    .sort((a, b) => b.percent - a.percent)
    .slice(0, count);
}
