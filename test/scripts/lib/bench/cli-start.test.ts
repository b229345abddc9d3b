import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureBundle, entryFigures, wallMs } from '#scripts/lib/bench/cli-start.ts';

describe('entryFigures', () => {
  it('takes medians of the wall times and of the per-round ratios to the floor', () => {
    // Round 2 is slow for everything: its ratios are those of the other rounds.
    const figures = entryFigures([100, 300, 120], [200, 600, 210], [50, 150, 40]);
    expect(figures).toEqual({ helpMs: 120, statusMs: 210, helpRatio: 2, statusRatio: 4 });
  });
});

describe('ensureBundle and wallMs', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'irsa-bench-cli-test-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('says why the bundle is missing when there is no build script, instead of failing', async () => {
    await writeFile(join(root, 'package.json'), JSON.stringify({ scripts: {} }));
    expect(await ensureBundle(root)).toBe(
      'dist/irsa-anywhere.mjs is absent and package.json has no "build" script to make it',
    );
  });

  it('says so when the build script does not write the bundle', async () => {
    await writeFile(join(root, 'package.json'), JSON.stringify({ scripts: { build: 'node -e 0' } }));
    expect(await ensureBundle(root)).toBe('npm run build did not write dist/irsa-anywhere.mjs');
  });

  it('refuses a command that fails, since its time would say nothing', async () => {
    await expect(wallMs(['-e', 'process.exit(3)'], root)).rejects.toThrow(/exited with code 3/);
    expect(await wallMs(['-e', '0'], root)).toBeGreaterThan(0);
  });
});
