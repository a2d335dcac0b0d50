// MD5 of memcached-sized keys: memring's pure-TS MD5 against node:crypto's
// one-shot crypto.hash (Node >= 20.12) and createHash. Keys cycle through a
// precomputed array so no single input stays hot.
import { createHash, hash } from 'node:crypto';

import { measure, report, type Measurement } from './harness.js';
import { md5, md5Word } from '../lib/hash/md5.js';

function strings(count: number, length: number, alphabet: string): string[] {
  return Array.from({ length: count }, (_, i) => {
    let text = `${i}:`;
    while (text.length < length) text += alphabet[(text.length * 7 + i) % alphabet.length];
    return text.slice(0, length);
  });
}

const ASCII = 'abcdefghijklmnopqrstuvwxyz0123456789:_-';
const short = strings(4096, 20, ASCII);
const long = strings(4096, 50, ASCII);
const shortBytes = short.map((key) => new Uint8Array(Buffer.from(key)));
// 20 UTF-16 units with 2- and 3-byte characters: the TextEncoder path.
const unicode = strings(4096, 20, 'aé鍵ключ');

// Both sides must compute the same digest before their speed means anything.
for (const key of [...short.slice(0, 64), ...unicode.slice(0, 64)]) {
  if (Buffer.from(md5(key)).toString('hex') !== hash('md5', key)) throw new Error(`md5 mismatch for ${key}`);
}

const OPTIONS = { iterations: 500_000 };

const rows: Measurement[] = [
  measure('memring md5Word(string), 20 B', (i) => md5Word(short[i & 4095]!), OPTIONS),
  measure('memring md5(string) -> 16-byte digest, 20 B', (i) => md5(short[i & 4095]!), OPTIONS),
  measure('node crypto.hash(md5, string, buffer), 20 B', (i) => hash('md5', short[i & 4095]!, 'buffer'), OPTIONS),
  measure('node createHash(md5).update(string).digest(), 20 B', (i) => createHash('md5').update(short[i & 4095]!).digest(), OPTIONS),
];
report('MD5 of a 20-byte ASCII key (string)', rows, 'node crypto.hash(md5, string, buffer), 20 B');

report(
  'MD5 of a 50-byte ASCII key (string)',
  [
    measure('memring md5Word(string), 50 B', (i) => md5Word(long[i & 4095]!), OPTIONS),
    measure('memring md5(string), 50 B', (i) => md5(long[i & 4095]!), OPTIONS),
    measure('node crypto.hash(md5, string, buffer), 50 B', (i) => hash('md5', long[i & 4095]!, 'buffer'), OPTIONS),
  ],
  'node crypto.hash(md5, string, buffer), 50 B',
);

report(
  'MD5 of a 20-byte key (Uint8Array)',
  [
    measure('memring md5Word(bytes), 20 B', (i) => md5Word(shortBytes[i & 4095]!), OPTIONS),
    measure('memring md5(bytes), 20 B', (i) => md5(shortBytes[i & 4095]!), OPTIONS),
    measure('node crypto.hash(md5, bytes, buffer), 20 B', (i) => hash('md5', shortBytes[i & 4095]!, 'buffer'), OPTIONS),
  ],
  'node crypto.hash(md5, bytes, buffer), 20 B',
);

report(
  'MD5 of a 20-character non-ASCII key (UTF-8 path)',
  [
    measure('memring md5Word(string), non-ASCII', (i) => md5Word(unicode[i & 4095]!), OPTIONS),
    measure('node crypto.hash(md5, string, buffer), non-ASCII', (i) => hash('md5', unicode[i & 4095]!, 'buffer'), OPTIONS),
  ],
  'node crypto.hash(md5, string, buffer), non-ASCII',
);

// Not a key size: shows where native MD5 takes over.
const kib = new Uint8Array(1024).map((_, i) => i * 31);
const big = new Uint8Array(64 * 1024).map((_, i) => i * 31);
report(
  'MD5 of larger inputs (for reference only)',
  [
    measure('memring md5(bytes), 1 KiB', () => md5(kib), { iterations: 50_000 }),
    measure('node crypto.hash(md5, bytes, buffer), 1 KiB', () => hash('md5', kib, 'buffer'), { iterations: 50_000 }),
    measure('memring md5(bytes), 64 KiB', () => md5(big), { iterations: 500 }),
    measure('node crypto.hash(md5, bytes, buffer), 64 KiB', () => hash('md5', big, 'buffer'), { iterations: 500 }),
  ],
  'node crypto.hash(md5, bytes, buffer), 1 KiB',
);
