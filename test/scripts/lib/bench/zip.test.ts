import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { builtinImports } from '#scripts/lib/bench/bundles.ts';
import { readZip } from '#scripts/lib/bench/zip.ts';

/** A minimal ZIP writer (what `zip` and archiver produce, without extras), for known inputs. */
function makeZip(files: Array<{ name: string; data: Buffer; deflate: boolean }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const body = file.deflate ? deflateRawSync(file.data) : file.data;
    const name = Buffer.from(file.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(file.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(file.data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(file.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc32(file.data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const centralDir = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(centralDir.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, eocd]);
}

describe('readZip', () => {
  it('reads deflated and stored entries back byte for byte', () => {
    const bundle = Buffer.from('export const handler = async () => ({});\n'.repeat(50));
    const zip = makeZip([
      { name: 'functions/rotate/handler.mjs', data: bundle, deflate: true },
      { name: 'README', data: Buffer.from('stored'), deflate: false },
    ]);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['functions/rotate/handler.mjs', 'README']);
    expect(entries[0]?.data.equals(bundle)).toBe(true);
    expect(entries[1]?.data.toString()).toBe('stored');
  });

  it('refuses something that is not a ZIP', () => {
    expect(() => readZip(Buffer.from('not a zip at all, just some text that is long enough'))).toThrow(
      expect.objectContaining({ code: 'BENCH_ZIP_INVALID' }),
    );
  });

  it('refuses a truncated archive', () => {
    const zip = makeZip([{ name: 'a.mjs', data: Buffer.from('x'.repeat(1000)), deflate: true }]);
    const eocd = zip.subarray(zip.length - 22);
    const broken = Buffer.concat([zip.subarray(0, 10), eocd]);
    expect(() => readZip(broken)).toThrow(expect.objectContaining({ code: 'BENCH_ZIP_INVALID' }));
  });
});

describe('builtinImports', () => {
  it('lists the node: builtins an esbuild ESM bundle imports, once each, sorted', () => {
    const bundle =
      'import{createRequire as a}from"node:module";import{Readable as b}from "node:stream";' +
      'import*as c from"node:https";import{x}from"node:stream";const d=await import("node:zlib");' +
      'import{y}from"./local.js";';
    expect(builtinImports(bundle)).toEqual(['node:https', 'node:module', 'node:stream', 'node:zlib']);
  });
});
