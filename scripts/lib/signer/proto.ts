/**
 * Loads the ExternalJWTSigner service definitions from the `.proto` files in the repository
 * (`proto/externaljwt/{v1,v1alpha1}/api.proto`), so the wire format is exactly what is reviewed.
 * The bundled CLI (`npm run build`) carries the same files as JSON descriptors parsed at build
 * time (scripts/build/protos.ts), so it reads no file beside itself.
 */
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { fromJSON, loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

/** Replaced by the bundle build (esbuild `define`) with `{ v1: <descriptor>, v1alpha1: ... }`. */
declare const IRSA_EMBEDDED_PROTOS: Record<string, Parameters<typeof fromJSON>[0]> | undefined;

/** The proto packages served: `v1` (k8s >= 1.34) and `v1alpha1` (k8s 1.32-1.33). */
export const SIGNER_PACKAGES = ['v1', 'v1alpha1'] as const;
export type SignerPackage = (typeof SIGNER_PACKAGES)[number];

/** Field names as in the proto, int64 as JS numbers, empty fields present. */
export const PROTO_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Absolute path of a package's `.proto` file. */
export function protoPath(pkg: SignerPackage): string {
  return fileURLToPath(new URL(`../../../proto/externaljwt/${pkg}/api.proto`, import.meta.url));
}

/** A client constructor as grpc-js builds it from a service definition. */
export type ServiceClientConstructor = ReturnType<typeof import('@grpc/grpc-js').makeClientConstructor>;

const cache = new Map<SignerPackage, { service: ServiceDefinition; Client: ServiceClientConstructor }>();

/** The `ExternalJWTSigner` service of one package: its definition (for servers) and client class. */
export function loadSignerService(pkg: SignerPackage): {
  service: ServiceDefinition;
  Client: ServiceClientConstructor;
} {
  const hit = cache.get(pkg);
  if (hit !== undefined) return hit;
  const definition = loadDefinition(pkg);
  const grpcObject = loadPackageDefinition(definition);
  const namespace = grpcObject[pkg] as Record<string, unknown> | undefined;
  const Client = namespace?.ExternalJWTSigner as
    | (ServiceClientConstructor & { service: ServiceDefinition })
    | undefined;
  if (Client === undefined) throw new Error(`proto package ${pkg} has no ExternalJWTSigner service`);
  const loaded = { service: Client.service, Client };
  cache.set(pkg, loaded);
  return loaded;
}

function loadDefinition(pkg: SignerPackage): PackageDefinition {
  const embedded = typeof IRSA_EMBEDDED_PROTOS === 'undefined' ? undefined : IRSA_EMBEDDED_PROTOS[pkg];
  return embedded === undefined ? loadSync(protoPath(pkg), PROTO_OPTIONS) : fromJSON(embedded, PROTO_OPTIONS);
}
