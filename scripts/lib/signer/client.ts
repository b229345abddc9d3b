/**
 * A small promise-based ExternalJWTSigner client, for tests, `signer` self-checks and the
 * benchmark. kube-apiserver is the real client; this one speaks the same wire format.
 */
import { type Client, credentials } from '@grpc/grpc-js';
import { loadSignerService, type SignerPackage } from './proto.ts';
import { parseSocket } from './socket.ts';

/** FetchKeys as the client sees it. */
export interface FetchedKeys {
  keys: Array<{ key_id: string; key: Buffer; exclude_from_oidc_discovery: boolean }>;
  data_timestamp: { seconds: number; nanos: number } | null;
  refresh_hint_seconds: number;
}

/** A connected client. */
export interface SignerClient {
  sign(claims: string): Promise<{ header: string; signature: string }>;
  fetchKeys(): Promise<FetchedKeys>;
  metadata(): Promise<{ max_token_expiration_seconds: number }>;
  close(): void;
}

type Unary = (
  request: unknown,
  options: { deadline?: Date },
  callback: (error: Error | null, response: unknown) => void,
) => void;

/**
 * Connects to a signer at `target` (a path, `@name`, or a grpc-js target such as `unix:///path`)
 * speaking proto package `pkg`. Each call has a deadline of `timeoutMs` (0: no deadline).
 */
export function connectSigner(target: string, pkg: SignerPackage = 'v1', timeoutMs = 10_000): SignerClient {
  const address = target.startsWith('@') || target.startsWith('/') ? parseSocket(target).grpcTarget : target;
  const { Client: Ctor } = loadSignerService(pkg);
  const client: Client = new Ctor(address, credentials.createInsecure(), { 'grpc.enable_channelz': 0 });
  const call = <T>(method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Unary>)[method];
      if (fn === undefined) throw new Error(`no method ${method}`);
      fn.call(
        client,
        request,
        timeoutMs > 0 ? { deadline: new Date(Date.now() + timeoutMs) } : {},
        (error, response) => (error ? reject(error) : resolve(response as T)),
      );
    });
  return {
    sign: (claims) => call('Sign', { claims }),
    fetchKeys: () => call('FetchKeys', {}),
    metadata: () => call('Metadata', {}),
    close: () => client.close(),
  };
}
