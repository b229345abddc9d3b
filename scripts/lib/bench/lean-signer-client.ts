/**
 * The benchmark's load generator: unary `Sign` calls in gRPC's wire format over one `node:http2`
 * session, as kube-apiserver's Go client sends them: one stream per call with the method's path,
 * `content-type: application/grpc`, `te: trailers` and a `grpc-timeout`; one length-prefixed
 * message; the answer's `grpc-status` read from the trailers (or from a trailers-only answer).
 *
 * Why not the grpc-js client (signer/client.ts, which the tests and self-checks use): this process
 * stands for kube-apiserver, whose Go client spends tens of microseconds per call. The grpc-js
 * client spent 0.25–0.3 ms of CPU per call on this machine and this one about 0.2 ms; on 2 cores
 * whatever the client spends is taken from the signer under test. The messages are encoded and
 * decoded by the very service definition the signer loads (proto.ts), so the bytes on the wire are
 * the same.
 */
import { type ClientHttp2Session, connect, constants, type IncomingHttpHeaders } from 'node:http2';
import { connect as connectSocket } from 'node:net';
import { loadSignerService, type SignerPackage } from '#scripts/lib/signer/proto.ts';
import { parseSocket } from '#scripts/lib/signer/socket.ts';

/** A lean connection to a signer: Sign only. */
export interface LeanSignerClient {
  sign(claims: string): Promise<{ header: string; signature: string }>;
  close(): void;
}

/** The socket a `unix:///path`, `/path` or `@name` target names, as `net.connect` takes it. */
function socketPath(target: string): string {
  const address = parseSocket(target);
  return address.kind === 'abstract' ? `\0${address.name}` : address.path;
}

/** gRPC's length-prefixed message: a zero compression flag, the length (big-endian), the bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** The message inside one uncompressed length-prefixed frame; throws on anything else. */
export function grpcUnframe(body: Buffer): Buffer {
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
    throw new Error(`expected one uncompressed gRPC message, got ${body.length} bytes`);
  }
  return body.subarray(5);
}

/** Connects to the signer at `target` speaking proto package `pkg`, one HTTP/2 session for all calls. */
export function connectLeanSigner(
  target: string,
  pkg: SignerPackage = 'v1',
  timeoutSeconds = 10,
): LeanSignerClient {
  const method = loadSignerService(pkg).service.Sign;
  if (method === undefined) throw new Error(`proto package ${pkg} has no Sign method`);
  const path = socketPath(target);
  const session: ClientHttp2Session = connect('http://localhost', {
    createConnection: () => connectSocket(path),
  });
  // Each stream reports its own failure; the session's error has nobody else to tell.
  session.on('error', () => {});
  const headers = {
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: method.path,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    [constants.HTTP2_HEADER_TE]: 'trailers',
    'grpc-timeout': `${timeoutSeconds}S`,
  };
  const sign = (claims: string) =>
    new Promise<{ header: string; signature: string }>((resolve, reject) => {
      const stream = session.request(headers, { endStream: false });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        outcome();
      };
      const readStatus = (fields: IncomingHttpHeaders) => {
        if (fields['grpc-status'] === undefined) return;
        status = String(fields['grpc-status']);
        message = decodeURIComponent(String(fields['grpc-message'] ?? ''));
      };
      stream.on('response', readStatus);
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => settle(() => reject(error)));
      stream.on('end', () =>
        settle(() => {
          if (status !== '0') {
            reject(new Error(`Sign failed: grpc-status ${status ?? 'missing'} ${message}`.trim()));
            return;
          }
          try {
            resolve(
              method.responseDeserialize(grpcUnframe(Buffer.concat(chunks))) as {
                header: string;
                signature: string;
              },
            );
          } catch (error) {
            reject(error);
          }
        }),
      );
      stream.on('close', () =>
        settle(() => reject(new Error(`Sign stream closed (code ${stream.rstCode})`))),
      );
      stream.end(grpcFrame(method.requestSerialize({ claims })));
    });
  return { sign, close: () => session.close() };
}
