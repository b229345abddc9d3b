/**
 * A loopback fake of KMS `Sign` for the kms backend benchmark, in its own process so its CPU is
 * not the client's. It speaks the AWS JSON 1.1 protocol (`X-Amz-Target: TrentService.Sign`) with
 * keep-alive, answers with real signatures (RSA-2048 and P-256, DER ECDSA as KMS returns it) and counts
 * the TCP connections it accepts. It checks no signature on the request: the client's SigV4 work is
 * what is being measured, not verified.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAKE_KMS_KEYS } from './signer-claims.ts';
import { serveRequests, type WorkerRequest } from './worker.ts';

/**
 * One real signature per key, made at start and answered to every Sign: the fake must cost the
 * client nothing but its answer, and must not be the bottleneck on a 2-core machine.
 */
function cannedSignature(privateKey: KeyObject): string {
  return sign('sha256', Buffer.from('bench'), privateKey).toString('base64');
}

const keys = new Map<string, { signature: string; ec: boolean }>([
  [
    FAKE_KMS_KEYS.RS256,
    { signature: cannedSignature(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), ec: false },
  ],
  [
    FAKE_KMS_KEYS.ES256,
    { signature: cannedSignature(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), ec: true },
  ],
]);
let connections = 0;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': 'bench',
  });
  res.end(text);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.headers['x-amz-target'] !== 'TrentService.Sign') {
      reply(res, 400, { __type: 'UnsupportedOperationException', message: 'only Sign' });
      return;
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { KeyId: string; Message: string };
    const key = keys.get(input.KeyId);
    if (key === undefined) {
      reply(res, 400, { __type: 'NotFoundException', message: `no key ${input.KeyId}` });
      return;
    }
    reply(res, 200, {
      KeyId: input.KeyId,
      Signature: key.signature,
      SigningAlgorithm: key.ec ? 'ECDSA_SHA_256' : 'RSASSA_PKCS1_V1_5_SHA_256',
    });
  });
}

const server = createServer({ keepAlive: true, keepAliveTimeout: 60_000 }, handle);
server.on('connection', () => {
  connections += 1;
});

serveRequests(
  async (request: WorkerRequest) => {
    if (request.type === 'start') {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }
    if (request.type === 'connections') return connections;
    throw new Error(`unknown request ${request.type}`);
  },
  async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  },
);
