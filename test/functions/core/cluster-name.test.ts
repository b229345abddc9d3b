/** One cluster-name rule for the stack (config.ts, infra/parameters.yml) and the CLI (key-sync). */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER_NAME_PATTERN, isClusterName } from '#core/cluster-name.ts';
import { parseConfig } from '#core/config.ts';

describe('cluster name', () => {
  it("is infra/parameters.yml's ClusterName AllowedPattern", async () => {
    const yaml = parse(await readFile('infra/parameters.yml', 'utf8'), { logLevel: 'silent' }) as {
      Parameters: { ClusterName: { AllowedPattern: string } };
    };
    expect(yaml.Parameters.ClusterName.AllowedPattern).toBe(CLUSTER_NAME_PATTERN.source);
  });

  it.each(['prod', 'Prod-EU-1', '0', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(isClusterName(name)).toBe(true);
  });

  it.each(['', '-prod', 'prod.eu', 'prod_eu', 'x'.repeat(64)])('refuses %j, as the functions do', (name) => {
    expect(isClusterName(name)).toBe(false);
    expect(() => parseConfig({ CLUSTER_NAME: name })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', detail: { variable: 'CLUSTER_NAME' } }),
    );
  });
});
