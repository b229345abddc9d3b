/**
 * Reads the entries of a ZIP archive (stored or deflated), enough to take the bundle back out of a
 * deployment artifact. Not a general ZIP reader: no ZIP64, no encryption, no multi-disk archives.
 */
import { inflateRawSync } from 'node:zlib';
import { IrsaError } from '#core/errors.ts';

/** One file in the archive. */
export interface ZipEntry {
  name: string;
  data: Buffer;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function corrupt(problem: string): IrsaError {
  return new IrsaError(
    'BENCH_ZIP_INVALID',
    `The deployment artifact is not a ZIP this benchmark can read: ${problem}.`,
    'Check that `npx serverless package` produced the zip (no ZIP64, stored or deflated entries).',
  );
}

/** The entries of `zip`, in central-directory order. Throws `BENCH_ZIP_INVALID`. */
export function readZip(zip: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i -= 1) {
    if (zip.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n += 1) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE)
      throw corrupt('a bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL_SIGNATURE)
      throw corrupt(`no local header for ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressedSize);
    if (raw.length !== compressedSize) throw corrupt(`${name} is truncated`);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else throw corrupt(`${name} uses compression method ${method}`);
    if (data.length !== size) throw corrupt(`${name} inflates to ${data.length} bytes, not ${size}`);
    entries.push({ name, data });
  }
  return entries;
}
