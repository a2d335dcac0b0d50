// What the 'php' transcoder costs on a get of an uncompressed string (flag 0,
// decoded to a string where the call settles) against the default (raw
// bytes, no transcoder), on one connection to one local memcached, 64 in
// flight, in interleaved rounds; the default's get followed by item.text (the
// same string in hand); and a 10 KB value stored FastLZ- and zlib-compressed,
// for scale.
import { Group, PhpTranscoder } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleaved, report } from './harness.js';

const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 64);
const OPS = Number(process.env['OPS'] ?? 50_000);
const KEY = 'bench:transcoder:string';

const server = await MemcachedServer.start({ args: ['-t', '1'] });
const raw = new Group([server.address]);
const php = new Group([server.address], { transcoder: 'php' });
const fastlz = new Group([server.address], { transcoder: new PhpTranscoder({ compression: 'fastlz' }) });
await raw.set(KEY, 'v'.repeat(100));
let big = '';
for (let i = 0; big.length < 10_000; i++) big += JSON.stringify({ id: i, user: `user${(i * 31) % 997}`, score: (i * 7919) % 10_000 });
big = big.slice(0, 10_000);
await fastlz.set('bench:transcoder:fastlz', big);
await php.set('bench:transcoder:zlib', big);
if ((await php.get(KEY))!.data !== 'v'.repeat(100)) throw new Error('php transcoder did not read the string');
if ((await php.get('bench:transcoder:fastlz'))!.data !== big) throw new Error('FastLZ value did not round-trip');

const rows = await interleaved([
  ['get 100 B, default (raw)', () => inFlight(IN_FLIGHT, OPS, () => raw.get(KEY))],
  ["get 100 B, 'php' (string)", () => inFlight(IN_FLIGHT, OPS, () => php.get(KEY))],
  // The same work with the default: the bytes read as a string by the caller.
  ['get 100 B, default, then item.text', () => inFlight(IN_FLIGHT, OPS, () => raw.get(KEY).then((item) => item!.text))],
  ["get 10 KB, 'php' FastLZ-compressed", () => inFlight(IN_FLIGHT, OPS / 5, () => php.get('bench:transcoder:fastlz'))],
  ["get 10 KB, 'php' zlib-compressed", () => inFlight(IN_FLIGHT, OPS / 5, () => php.get('bench:transcoder:zlib'))],
]);
report(`get through the 'php' transcoder, 1 connection, ${IN_FLIGHT} in flight`, rows, 'get 100 B, default (raw)');
const ns = (name: string): number => rows.find((m) => m.name === name)!.nsPerOp;
console.log(
  `\n'php' / default cost per get (100 B string): ${(ns("get 100 B, 'php' (string)") / ns('get 100 B, default (raw)')).toFixed(2)}; ` +
    `vs the default's get then item.text: ${(ns("get 100 B, 'php' (string)") / ns('get 100 B, default, then item.text')).toFixed(2)}`,
);

await Promise.all([raw.close(), php.close(), fastlz.close()]);
await server.stop();
