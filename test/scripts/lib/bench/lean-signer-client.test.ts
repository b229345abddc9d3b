import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLeanSigner, grpcFrame, grpcUnframe } from '#scripts/lib/bench/lean-signer-client.ts';
import { benchClaims } from '#scripts/lib/bench/signer-claims.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { startTempLocalSigner, type TempSigner } from '#scripts/lib/signer/temp-signer.ts';

describe('gRPC message framing', () => {
  it('prefixes a zero compression flag and the big-endian length (known answer)', () => {
    expect(grpcFrame(Uint8Array.of(1, 2, 3)).toString('hex')).toBe('0000000003010203');
    expect(grpcUnframe(Buffer.from('0000000003010203', 'hex')).toString('hex')).toBe('010203');
  });
  it('refuses a compressed, short or mis-sized message', () => {
    expect(() => grpcUnframe(Buffer.from('0100000001ff', 'hex'))).toThrow(/uncompressed/);
    expect(() => grpcUnframe(Buffer.from('000000', 'hex'))).toThrow(/3 bytes/);
    expect(() => grpcUnframe(Buffer.from('0000000005ff', 'hex'))).toThrow(/6 bytes/);
  });
});

describe('the benchmark’s lean signer client against the real signer', () => {
  let signer: TempSigner;
  beforeAll(async () => {
    signer = await startTempLocalSigner({ keySpec: 'RSA_2048' });
  });
  afterAll(async () => {
    await signer?.close();
  });

  it('gets byte for byte what the grpc-js client gets, over v1 and v1alpha1', async () => {
    const reference = connectSigner(signer.target);
    try {
      const expected = await reference.sign(benchClaims(1));
      for (const pkg of ['v1', 'v1alpha1'] as const) {
        const lean = connectLeanSigner(signer.target, pkg);
        try {
          // RS256 is deterministic: the same claims give the same signature.
          expect(await lean.sign(benchClaims(1))).toEqual(expected);
        } finally {
          lean.close();
        }
      }
    } finally {
      reference.close();
    }
  });

  it('fails a call the signer refuses with its gRPC status and message', async () => {
    const lean = connectLeanSigner(signer.socketPath);
    try {
      await expect(lean.sign('not-claims')).rejects.toThrow(/grpc-status 3 /);
      // The session survives a refused call.
      await expect(lean.sign(benchClaims(2))).resolves.toMatchObject({ header: expect.any(String) });
    } finally {
      lean.close();
    }
  });

  it('fails, not hangs, when nothing listens on the socket', async () => {
    const lean = connectLeanSigner(`${signer.dir}/nobody.sock`);
    try {
      await expect(lean.sign(benchClaims(3))).rejects.toThrow();
    } finally {
      lean.close();
    }
  });
});
