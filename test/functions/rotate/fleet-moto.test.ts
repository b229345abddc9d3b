/**
 * Two fleet members publishing into one fleet bucket, against moto_server with the real AWS SDK:
 * each member writes only under /<cluster>/, and rotating one never changes the other's documents
 * or keyset. (moto does not evaluate bucket policies; the per-prefix write authority is checked on
 * the template in test/infra/fleet.test.ts.)
 */

import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import { type MotoWorld, motoRotateHandler, startMotoWorld } from './moto-rotate.ts';
import { motoAvailable } from './moto-server.ts';

const HAVE_MOTO = motoAvailable('the two-member fleet test against moto');
const DOMAIN = 'https://oidc.example.com';

describe.skipIf(!HAVE_MOTO)('two fleet members share one bucket against moto_server', () => {
  let world: MotoWorld;

  beforeAll(async () => {
    world = await startMotoWorld(['fleet-bucket', 'c1-state', 'c2-state']);
  }, 60_000);

  afterAll(async () => {
    await world?.stop();
  });

  function member(cluster: string, clock: () => Date) {
    const config = parseConfig({
      CLUSTER_NAME: cluster,
      ISSUER_URL: `${DOMAIN}/${cluster}`,
      STATE_BUCKET: `${cluster}-state`,
      PUBLIC_BUCKET: 'fleet-bucket',
    });
    return motoRotateHandler(config, world.clients, clock);
  }

  const text = (bucket: string, key: string) => world.text(bucket, key);

  async function documents(cluster: string) {
    return {
      discovery: JSON.parse(await text('fleet-bucket', `${cluster}/.well-known/openid-configuration`)),
      jwks: JSON.parse(await text('fleet-bucket', `${cluster}/openid/v1/jwks`)) as {
        keys: Array<{ kid: string }>;
      },
      keyset: await text(`${cluster}-state`, 'keyset.json'),
    };
  }

  it('each member publishes under its own prefix and never touches the other', async () => {
    let now = new Date('2026-03-01T00:00:00Z');
    const c1 = member('c1', () => now);
    const c2 = member('c2', () => now);
    const first1 = await c1();
    const first2 = await c2();
    expect(first1.activeKid).not.toBe(first2.activeKid);
    const c2Before = await documents('c2');
    expect(c2Before.discovery).toMatchObject({
      issuer: `${DOMAIN}/c2`,
      jwks_uri: `${DOMAIN}/c2/openid/v1/jwks`,
    });

    // c1 rotates twice (emergency rotations): only c1's documents change.
    for (let i = 0; i < 2; i += 1) {
      now = new Date(now.getTime() + 3_600_000);
      await c1({ now: true });
    }
    const c1After = await documents('c1');
    expect(c1After.discovery).toMatchObject({
      issuer: `${DOMAIN}/c1`,
      jwks_uri: `${DOMAIN}/c1/openid/v1/jwks`,
    });
    expect(c1After.jwks.keys.map((k) => k.kid)).toContain(first1.activeKid);
    expect(c1After.jwks.keys.map((k) => k.kid)).not.toContain(first2.activeKid);
    expect(await documents('c2')).toEqual(c2Before);

    const listed = await world.clients.s3.send(new ListObjectsV2Command({ Bucket: 'fleet-bucket' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
      'c1/.well-known/openid-configuration',
      'c1/openid/v1/jwks',
      'c2/.well-known/openid-configuration',
      'c2/openid/v1/jwks',
    ]);
  }, 90_000);
});
