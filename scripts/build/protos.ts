/**
 * The signer's `.proto` files as protobufjs JSON descriptors, for the bundle: parsed here with the
 * protobufjs that @grpc/proto-loader itself uses (and the same keepCase), so the embedded
 * descriptor and `loadSync` of the file give the same service.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PROTO_OPTIONS, protoPath, SIGNER_PACKAGES } from '../lib/signer/proto.ts';

interface ProtobufRoot {
  loadSync(file: string, options: { keepCase?: boolean }): ProtobufRoot;
  resolveAll(): ProtobufRoot;
  toJSON(): unknown;
}
interface Protobuf {
  Root: new () => ProtobufRoot;
}

/** `{ v1: <descriptor>, v1alpha1: <descriptor> }` for esbuild's `define`. */
export function protoDescriptors(): Record<string, unknown> {
  // protobufjs is proto-loader's dependency, not ours: resolve it from proto-loader's own directory.
  const fromLoader = createRequire(fileURLToPath(import.meta.resolve('@grpc/proto-loader')));
  const protobuf = fromLoader('protobufjs') as Protobuf;
  return Object.fromEntries(
    SIGNER_PACKAGES.map((pkg) => [
      pkg,
      new protobuf.Root()
        .loadSync(protoPath(pkg), { keepCase: PROTO_OPTIONS.keepCase === true })
        .resolveAll()
        .toJSON(),
    ]),
  );
}
