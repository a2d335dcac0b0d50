// Through twemproxy (nutcracker) in front of two memcached: memring's text
// protocol with 64 gets in flight against a raw socket keeping 64 prebuilt
// `get` lines in flight through the same proxy (lib/cli/raw.ts), interleaved
// round after round; the ratio is memring's share of what the proxy can
// carry to one Node process. The same pair straight to one memcached, for scale.
import { Group } from '../lib/index.js';
import { rawGets } from '../lib/cli/raw.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { Twemproxy } from '../spec/support/twemproxy.js';
import { inFlight, interleaved, report, ROUNDS } from './harness.js';

const OPS = Number(process.env['OPS'] ?? 50_000);
const IN_FLIGHT = 64;
const VALUE = 'v'.repeat(100);
const KEYS = Array.from({ length: IN_FLIGHT }, (_, i) => `bench:proxy:${i}`);

const backends = await Promise.all([0, 1].map(() => MemcachedServer.start()));
const proxy = await Twemproxy.start({ backends: backends.map((b) => ({ address: b.address })) });
const viaProxy = new Group([proxy.address], { protocol: 'text', timeout: 5000 });
const direct = new Group([backends[0]!.address], { protocol: 'text', timeout: 5000 });
try {
  for (const key of KEYS) {
    await viaProxy.set(key, VALUE);
    await direct.set(key, VALUE);
  }
  for (const group of [viaProxy, direct]) {
    const hits = await group.getMulti(KEYS);
    if (hits.size !== KEYS.length) throw new Error(`only ${hits.size} of ${KEYS.length} keys read back`);
  }
  let next = 0;
  const gets = (group: Group) => () => inFlight(IN_FLIGHT, OPS, () => group.get(KEYS[next++ % KEYS.length]!));
  const raw = (host: string, port: number) => async () =>
    (await rawGets([{ host, port, keys: KEYS, inFlight: IN_FLIGHT, protocol: 'text' }], { ops: OPS })).ops;

  const rows = await interleaved(
    [
      ['raw text socket, via twemproxy', raw(proxy.host, proxy.port)],
      ['memring text, via twemproxy', gets(viaProxy)],
      ['raw text socket, direct', raw(backends[0]!.host, backends[0]!.port)],
      ['memring text, direct', gets(direct)],
    ],
    ROUNDS,
  );
  report(`get, ${IN_FLIGHT} in flight, 100-byte values: through twemproxy and direct (median of ${ROUNDS} interleaved rounds of ${OPS} gets)`, rows, 'raw text socket, via twemproxy');
  const [rawProxy, memringProxy, rawDirect, memringDirect] = rows;
  console.log(`\nmemring / raw through twemproxy: ${(rawProxy!.nsPerOp / memringProxy!.nsPerOp).toFixed(2)}`);
  console.log(`memring / raw direct: ${(rawDirect!.nsPerOp / memringDirect!.nsPerOp).toFixed(2)}`);
} finally {
  await viaProxy.close();
  await direct.close();
  await proxy.stop();
  await Promise.all(backends.map((b) => b.stop()));
}
