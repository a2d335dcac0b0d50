// FastLZ in TypeScript against node:zlib on the same 10 KB value (JSON-like
// text, compressible as cached values are): decoding (FastLZ level 1 vs
// inflateSync of the zlib stream) and encoding (FastLZ level 1 vs
// deflateSync at zlib's default level, what the 'php' transcoder uses, and
// at level 1), in interleaved rounds, as MB/s of the uncompressed value.
import { deflateSync, inflateSync } from 'node:zlib';
import { fastlzDecode, fastlzEncode } from '../lib/compress/fastlz.js';
import { consume, interleaved, report } from './harness.js';

const SIZE = 10_000;
const OPS = Number(process.env['OPS'] ?? 2000);

function sample(): Uint8Array {
  let text = '';
  for (let i = 0; text.length < SIZE; i++) {
    text += JSON.stringify({ id: 100_000 + i * 7, user: `user${(i * 31) % 997}`, score: ((i * 7919) % 10_000) / 100, tags: ['a', 'b', 'c'].slice(i % 3) });
  }
  return new TextEncoder().encode(text.slice(0, SIZE));
}

const value = sample();
const fast = fastlzEncode(value);
const zlib = deflateSync(value);
// Both sides must decode to the value before their speed means anything.
if (!Buffer.from(fastlzDecode(fast, SIZE)).equals(Buffer.from(value))) throw new Error('FastLZ round trip failed');
if (!inflateSync(zlib).equals(Buffer.from(value))) throw new Error('zlib round trip failed');

function loop(fn: () => unknown): () => Promise<number> {
  return () => {
    for (let i = 0; i < OPS; i++) consume(fn());
    return Promise.resolve(OPS);
  };
}

const rows = await interleaved([
  ['decode: FastLZ (TypeScript)', loop(() => fastlzDecode(fast, SIZE))],
  ['decode: node:zlib inflateSync', loop(() => inflateSync(zlib))],
  ['encode: FastLZ level 1 (TypeScript)', loop(() => fastlzEncode(value))],
  ['encode: node:zlib deflateSync (level 6)', loop(() => deflateSync(value))],
  ['encode: node:zlib deflateSync (level 1)', loop(() => deflateSync(value, { level: 1 }))],
]);
const mbps = (name: string): number => SIZE / rows.find((r) => r.name === name)!.nsPerOp * 1000;
report(`FastLZ vs node:zlib, one ${SIZE}-byte value (FastLZ ${fast.length} B, zlib ${zlib.length} B)`, rows, 'decode: node:zlib inflateSync');
console.log('\n| case | MB/s |\n|---|---:|');
for (const row of rows) console.log(`| ${row.name} | ${mbps(row.name).toFixed(0)} |`);
console.log(
  `\nFastLZ / zlib MB/s: decode ${(mbps('decode: FastLZ (TypeScript)') / mbps('decode: node:zlib inflateSync')).toFixed(2)}, ` +
    `encode ${(mbps('encode: FastLZ level 1 (TypeScript)') / mbps('encode: node:zlib deflateSync (level 6)')).toFixed(2)} (vs level 1: ` +
    `${(mbps('encode: FastLZ level 1 (TypeScript)') / mbps('encode: node:zlib deflateSync (level 1)')).toFixed(2)})`,
);
