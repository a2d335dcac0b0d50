// ElastiCache auto-discovery: a scripted configuration endpoint (the documented reply
// formats) in front of REAL memcached nodes. Node lines name made-up host names
// ("node1.local": only placed by, never resolved) and 127.0.0.1 with each node's port.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ErrorCode,
  Group,
  MemcacheError,
  Ring,
  type ClusterChangedEvent,
  type DiscoveryFailedEvent,
  type GroupOptions,
} from '../../lib/index.js';
import { MemcachedServer, freePort } from '../support/memcached.js';
import { ScriptedEndpoint } from './scripted-endpoint.js';

type EventOf<K> = K extends 'cluster-changed' ? ClusterChangedEvent : DiscoveryFailedEvent;

/** The next event of that type passing `accept`; rejects after `ms`. */
function nextEvent<K extends 'cluster-changed' | 'discovery-failed'>(
  group: Group,
  type: K,
  accept: (event: EventOf<K>) => boolean = () => true,
  ms = 10_000,
): Promise<EventOf<K>> {
  return new Promise((resolve, reject) => {
    const listener = (event: Event): void => {
      if (!accept(event as EventOf<K>)) return;
      clearTimeout(timer);
      group.removeEventListener(type, listener);
      resolve(event as EventOf<K>);
    };
    const timer = setTimeout(() => {
      group.removeEventListener(type, listener);
      reject(new Error(`no ${type} event within ${ms} ms`));
    }, ms);
    group.addEventListener(type, listener);
  });
}

const nodeLine = (name: string, server: MemcachedServer): string => `${name}|127.0.0.1|${server.port}`;

/** The server's get and set counters, asked on a connection of its own. */
async function commandCounts(server: MemcachedServer): Promise<{ get: number; set: number }> {
  const direct = new Group([server.address]);
  try {
    const stats = (await direct.stats()).get(server.address)!;
    return { get: Number(stats['cmd_get']), set: Number(stats['cmd_set']) };
  } finally {
    await direct.close();
  }
}

function isCode(code: string) {
  return (error: unknown): boolean => error instanceof MemcacheError && error.code === code;
}

function rejectsWith(code: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof MemcacheError, `not a MemcacheError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

/**
 * Calls on a group from a few workers, each awaiting its own in turn: sets, gets and
 * getMulti over a few hundred keys. Bounded in count and time; every settled call is counted.
 */
class Load {
  issued = 0;
  settled = 0;
  readonly failures: unknown[] = [];
  readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly workers: Promise<void>[];
  private readonly deadline: number;

  constructor(
    private readonly group: Group,
    private readonly maxOps = 30_000,
    ms = 60_000,
    workers = 8,
  ) {
    this.deadline = Date.now() + ms;
    this.workers = Array.from({ length: workers }, () => this.work());
  }

  private async work(): Promise<void> {
    while (!this.stopped && this.issued < this.maxOps && Date.now() < this.deadline) {
      const i = this.issued++;
      const key = `load:${i % 300}`;
      const call: Promise<unknown> =
        i % 10 === 9 ? this.group.getMulti([key, `load:${(i + 1) % 300}`, `load:${(i + 2) % 300}`]) : i % 2 === 0 ? this.group.set(key, `v${i}`) : this.group.get(key);
      this.inFlight.add(call);
      try {
        await call;
      } catch (error) {
        this.failures.push(error);
      } finally {
        this.inFlight.delete(call);
        this.settled++;
      }
    }
  }

  /** Waits until `count` more calls have settled (fails if the load ends or hangs first). */
  async more(count: number, ms = 30_000): Promise<void> {
    const target = this.settled + count;
    const deadline = Date.now() + ms;
    while (this.settled < target) {
      if (Date.now() > deadline || this.issued >= this.maxOps || Date.now() > this.deadline) {
        throw new Error(`load: ${this.settled} of ${target} calls settled (hung, or past its bounds)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Waits for the calls in flight now to settle: nothing sent before this point is still on its way. */
  async drainInFlight(): Promise<void> {
    await guard(Promise.allSettled([...this.inFlight]), 20_000, 'calls in flight did not settle');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await guard(Promise.all(this.workers), 20_000, 'load workers did not finish');
    assert.equal(this.settled, this.issued, 'every call settled');
  }
}

function guard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]);
}

const DISCOVERY: GroupOptions = { discovery: 'elasticache', discoveryInterval: 100, timeout: 5000 };

describe('ElastiCache auto-discovery', () => {
  let a: MemcachedServer;
  let b: MemcachedServer;
  let c: MemcachedServer;
  let endpoint: ScriptedEndpoint;
  const groups: Group[] = [];

  function group(options: GroupOptions = DISCOVERY, address = endpoint.address): Group {
    const made = new Group([address], options);
    groups.push(made);
    return made;
  }

  before(async () => {
    [a, b, c] = await Promise.all([MemcachedServer.start(), MemcachedServer.start(), MemcachedServer.start()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });
  afterEach(async () => {
    await Promise.all(groups.splice(0).map((g) => g.close()));
    await endpoint?.stop();
  });

  describe('the first cluster', () => {
    it('a call made right after new Group waits for the first answer, then goes to the listed nodes', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(7, [nodeLine('node1.local', a), nodeLine('node2.local', b)]);
      // Each reply in two writes: the answer is read across reads.
      endpoint.splitAt = 9;
      const g = group();
      const changed = nextEvent(g, 'cluster-changed');
      assert.deepEqual(g.serverNames, []);
      assert.equal(g.serverFor('k'), null);
      assert.equal(await g.set('first:key', 'v'), true);
      assert.equal(new TextDecoder().decode((await g.get('first:key'))!.value), 'v');
      assert.deepEqual(g.serverNames, [a.address, b.address]);
      const event = await changed;
      assert.equal(event.type, 'cluster-changed');
      assert.equal(event.endpoint, endpoint.address);
      assert.equal(event.version, 7);
      assert.equal(event.previousVersion, null);
      assert.deepEqual(
        event.nodes.map((n) => [n.hostname, n.ip, n.port, n.address]),
        [
          ['node1.local', '127.0.0.1', a.port, a.address],
          ['node2.local', '127.0.0.1', b.port, b.address],
        ],
      );
      assert.deepEqual(event.added, event.nodes);
      assert.deepEqual(event.removed, []);
      assert.deepEqual(endpoint.asks[0], 'config get cluster');
    });

    it('places keys by ketama over the host names, and each item is on the node serverFor names', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a), nodeLine('node2.local', b), nodeLine('node3.local', c)]);
      const g = group();
      await g.noop();
      const byName = new Ring([
        { host: 'node1.local', port: a.port },
        { host: 'node2.local', port: b.port },
        { host: 'node3.local', port: c.port },
      ]);
      const byIp = new Ring([a.address, b.address, c.address]);
      const servers = [a, b, c];
      let differ = 0;
      for (let i = 0; i < 300; i++) {
        const key = `place:${i}`;
        assert.equal(g.serverFor(key), servers[byName.pick(key)]!.address, key);
        if (byName.pick(key) !== byIp.pick(key)) differ++;
      }
      // The label matters: placing by "127.0.0.1:port" would put some keys elsewhere.
      assert.ok(differ > 0);
      for (let i = 0; i < 60; i++) await g.set(`place:${i}`, `v${i}`);
      for (const server of servers) {
        const direct = new Group([server.address]);
        try {
          for (let i = 0; i < 60; i++) {
            const key = `place:${i}`;
            const item = await direct.get(key);
            assert.equal(item !== null, g.serverFor(key) === server.address, `${key} on ${server.address}`);
          }
        } finally {
          await direct.close();
        }
      }
    });

    it('getMulti, stats and version made before the first answer wait for it, then ask the listed nodes', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a), nodeLine('node2.local', b)]);
      const g = group();
      const [hits, stats, versions] = await Promise.all([g.getMulti(['multi:a', 'multi:b']), g.stats(), g.version()]);
      assert.equal(hits.size, 0);
      assert.deepEqual([...stats.keys()], [a.address, b.address]);
      assert.deepEqual([...versions.keys()], [a.address, b.address]);
      assert.match(stats.get(a.address)!['version']!, /^1\./);
    });

    it('a node without an ip is connected to by its hostname', async () => {
      endpoint = await ScriptedEndpoint.start();
      // The hostname is a loopback address here: nothing is resolved through DNS.
      endpoint.serve(1, [`127.0.0.1||${a.port}`]);
      const g = group();
      const changed = nextEvent(g, 'cluster-changed');
      assert.equal(await g.set('noip:key', 'v'), true);
      assert.deepEqual(g.serverNames, [a.address]);
      assert.deepEqual((await changed).nodes, [{ hostname: '127.0.0.1', ip: '', port: a.port, address: a.address }]);
      const direct = new Group([a.address]);
      try {
        assert.notEqual(await direct.get('noip:key'), null);
      } finally {
        await direct.close();
      }
    });

    it('waits at most the call timeout for an endpoint that never answers (MC_ERR_NO_SERVERS)', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.mode = 'stall';
      const g = group({ discovery: 'elasticache', timeout: 300 });
      await assert.rejects(g.get('stall:key'), rejectsWith(ErrorCode.NO_SERVERS, /no cluster configuration .* within 300 ms/));
      await assert.rejects(g.getMulti(['stall:a', 'stall:b']), rejectsWith(ErrorCode.NO_SERVERS));
      await assert.rejects(g.flush(), rejectsWith(ErrorCode.NO_SERVERS));
      assert.deepEqual(g.serverNames, []);
    });

    it('a waiting call can be aborted, a bad key is refused as such, and close() rejects what waits', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.mode = 'stall';
      // Far longer than the guards below: what settles here settles without waiting for the timeout.
      const g = group({ discovery: 'elasticache', timeout: 120_000 });
      const controller = new AbortController();
      const aborted = g.get('abort:key', { signal: controller.signal });
      controller.abort();
      await guard(assert.rejects(aborted, rejectsWith(ErrorCode.ABORTED)), 5000, 'the aborted call did not reject');
      await guard(assert.rejects(g.get('bad key'), rejectsWith(ErrorCode.BAD_KEY)), 5000, 'the bad key was not refused at once');
      await guard(assert.rejects(g.set('big:key', 'x'.repeat(2 * 1024 * 1024)), rejectsWith(ErrorCode.VALUE_TOO_LARGE)), 5000, 'the big value was not refused at once');
      const waiting = [g.get('close:a'), g.set('close:b', 'v'), g.getMulti(['close:c']), g.stats()];
      await g.close();
      for (const call of waiting) await assert.rejects(call, rejectsWith(ErrorCode.CLIENT_CLOSED));
      await assert.rejects(g.get('close:d'), rejectsWith(ErrorCode.CLIENT_CLOSED));
    });

    it('a plain memcached as the endpoint: discovery-failed with MC_ERR_UNSUPPORTED, and calls fail after their timeout', async () => {
      const g = group({ discovery: 'elasticache', timeout: 400, retryDelay: 50 }, a.address);
      const failed = await nextEvent(g, 'discovery-failed');
      assert.equal(failed.error.code, ErrorCode.UNSUPPORTED);
      assert.match(failed.error.message, /knows neither config get cluster nor get AmazonElastiCache:cluster|has no AmazonElastiCache:cluster item/);
      assert.equal(failed.version, null);
      assert.deepEqual(failed.nodes, []);
      await assert.rejects(g.get('plain:key'), (error: unknown) => {
        assert.ok(error instanceof MemcacheError);
        assert.equal(error.code, ErrorCode.NO_SERVERS);
        assert.ok(isCode(ErrorCode.UNSUPPORTED)(error.cause), 'the endpoint failure is the cause');
        return true;
      });
    });
  });

  describe('membership growing and shrinking under load', () => {
    it('every call settles, the new node takes keys, and a removed node gets no call once its own have settled', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a), nodeLine('node2.local', b)]);
      const g = group();
      await g.noop();
      const downs: string[] = [];
      g.addEventListener('server-down', (event) => downs.push(event.server));
      const load = new Load(g);
      try {
        await load.more(500);

        const cBefore = await commandCounts(c);
        const grown = nextEvent(g, 'cluster-changed');
        endpoint.serve(2, [nodeLine('node1.local', a), nodeLine('node2.local', b), nodeLine('node3.local', c)]);
        const growth = await grown;
        assert.equal(growth.version, 2);
        assert.equal(growth.previousVersion, 1);
        assert.deepEqual(growth.nodes.map((n) => n.address), [a.address, b.address, c.address]);
        assert.deepEqual(growth.added.map((n) => n.hostname), ['node3.local']);
        assert.deepEqual(growth.removed, []);
        assert.deepEqual(g.serverNames, [a.address, b.address, c.address]);
        await load.more(1000);
        const cAfter = await commandCounts(c);
        assert.ok(cAfter.set > cBefore.set && cAfter.get > cBefore.get, 'the added node takes sets and gets');

        const bConnections = Number((await commandStats(b))['curr_connections']);
        const shrunk = nextEvent(g, 'cluster-changed');
        endpoint.serve(3, [nodeLine('node1.local', a), nodeLine('node3.local', c)]);
        const shrink = await shrunk;
        assert.equal(shrink.version, 3);
        assert.deepEqual(shrink.nodes.map((n) => n.address), [a.address, c.address]);
        assert.deepEqual(shrink.added, []);
        assert.deepEqual(shrink.removed.map((n) => [n.hostname, n.address]), [['node2.local', b.address]]);
        assert.deepEqual(g.serverNames, [a.address, c.address]);
        // What was sent to node2 before the change has been answered (so counted) once this settles.
        await load.drainInFlight();
        const bAtChange = await commandCounts(b);
        await load.more(1500);
        assert.deepEqual(await commandCounts(b), bAtChange, 'node2 saw no get or set after it left the ring');
        // Its pool closed its connection once the calls on it had settled.
        await waitUntil(async () => Number((await commandStats(b))['curr_connections']) < bConnections, 'node2 connection closed');

        // And with node2 gone for good, nothing fails and nothing reports it down.
        await b.stop('SIGKILL');
        await load.more(1000);
      } finally {
        await load.stop();
        await b.restart();
      }
      assert.deepEqual(load.failures, []);
      assert.deepEqual(downs, []);
      assert.ok(load.settled >= 4000);
    });

    it('a node that stays keeps its pool: its connection is not remade', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a)]);
      const g = group();
      await g.set('keep:key', 'v');
      const connectionsBefore = Number((await commandStats(a))['total_connections']);
      const changed = nextEvent(g, 'cluster-changed');
      endpoint.serve(2, [nodeLine('node1.local', a), nodeLine('node2.local', b)]);
      await changed;
      // A key that stays on node1 is read on the connection already open.
      let key = '';
      for (let i = 0; key === ''; i++) if (g.serverFor(`keep:${i}`) === a.address) key = `keep:${i}`;
      await g.get(key);
      // Only the stats connections of this spec are new.
      assert.equal(Number((await commandStats(a))['total_connections']), connectionsBefore + 1);
    });
  });

  describe("with failover: 'eject'", () => {
    it('a node ejected before a change stays off the new ring', async () => {
      endpoint = await ScriptedEndpoint.start();
      // Nothing listens on the dead node's port.
      const dead = `dead.local|127.0.0.1|${await freePort()}`;
      endpoint.serve(1, [nodeLine('node1.local', a), dead]);
      const g = group({ ...DISCOVERY, failover: 'eject', failureLimit: 1, retryDelay: 60_000, maxRetryDelay: 60_000 });
      const ejected = new Promise<string>((resolve) => g.addEventListener('server-ejected', (event) => resolve(event.server), { once: true }));
      // The dead node fails its noop: with failureLimit 1 that ejects it.
      await assert.rejects(g.noop(), rejectsWith(ErrorCode.CONNECT));
      const deadAddress = g.serverNames[1]!;
      assert.equal(await guard(ejected, 10_000, 'no server-ejected'), deadAddress);
      const changed = nextEvent(g, 'cluster-changed');
      endpoint.serve(2, [nodeLine('node1.local', a), dead, nodeLine('node3.local', c)]);
      await changed;
      assert.deepEqual(g.serverNames, [a.address, deadAddress, c.address]);
      const owners = new Set<string | null>();
      for (let i = 0; i < 300; i++) owners.add(g.serverFor(`eject:${i}`));
      assert.deepEqual([...owners].sort(), [a.address, c.address].sort());
    });
  });

  describe('versions', () => {
    it('a lower or equal version is ignored; a higher one rebuilds', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(5, [nodeLine('node1.local', a), nodeLine('node2.local', b)]);
      const g = group();
      await g.noop();
      const changes: number[] = [];
      g.addEventListener('cluster-changed', (event) => changes.push(event.version));
      endpoint.serve(5, [nodeLine('node1.local', a)]);
      await endpoint.waitForAsks(endpoint.asks.length + 2);
      endpoint.serve(4, [nodeLine('node3.local', c)]);
      // Two more questions: the first of them has been answered and read.
      await endpoint.waitForAsks(endpoint.asks.length + 2);
      assert.deepEqual(changes, []);
      assert.deepEqual(g.serverNames, [a.address, b.address]);
      const changed = nextEvent(g, 'cluster-changed');
      endpoint.serve(6, [nodeLine('node3.local', c)]);
      assert.equal((await changed).version, 6);
      assert.deepEqual(g.serverNames, [c.address]);
    });
  });

  describe('when the endpoint fails', () => {
    it('keeps the last known cluster and says so (garbage, hang-up, no answer, unreachable), then takes a new version', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a), nodeLine('node2.local', b)]);
      const g = group({ discovery: 'elasticache', discoveryInterval: 50, timeout: 500, connectTimeout: 500 });
      await g.noop();
      const kept = [a.address, b.address];
      const cases: [mode: 'garbage' | 'hangup' | 'stall' | 'unreachable', code: string][] = [
        ['garbage', ErrorCode.PROTOCOL],
        ['hangup', ErrorCode.CONN_CLOSED],
        ['stall', ErrorCode.TIMEOUT],
        ['unreachable', ErrorCode.CONNECT],
      ];
      for (const [mode, code] of cases) {
        const failed = nextEvent(g, 'discovery-failed', (event) => event.error.code === code);
        if (mode === 'unreachable') {
          endpoint.mode = 'config';
          await endpoint.stop();
        } else endpoint.mode = mode;
        const event = await failed;
        assert.equal(event.endpoint, endpoint.address);
        assert.equal(event.version, 1, mode);
        assert.deepEqual(event.nodes.map((n) => n.address), kept, mode);
        assert.deepEqual(g.serverNames, kept, mode);
        assert.equal(await g.set(`failing:${mode}`, 'v'), true);
        assert.notEqual(await g.get(`failing:${mode}`), null);
      }
      const changed = nextEvent(g, 'cluster-changed');
      endpoint.serve(2, [nodeLine('node3.local', c)]);
      await endpoint.listen();
      const event = await changed;
      assert.equal(event.version, 2);
      assert.equal(event.previousVersion, 1);
      assert.deepEqual(g.serverNames, [c.address]);
    });
  });

  describe('engines before 1.4.14', () => {
    it('on ERROR to config get cluster, asks get AmazonElastiCache:cluster, and keeps asking that on the connection', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.mode = 'legacy';
      endpoint.serve(3, [nodeLine('node1.local', a), nodeLine('node2.local', b)]);
      const g = group();
      assert.equal(await g.set('legacy:key', 'v'), true);
      assert.deepEqual(g.serverNames, [a.address, b.address]);
      await endpoint.waitForAsks(4);
      assert.deepEqual(endpoint.asks.slice(0, 4), [
        'config get cluster',
        'get AmazonElastiCache:cluster',
        'get AmazonElastiCache:cluster',
        'get AmazonElastiCache:cluster',
      ]);
      assert.equal(endpoint.connections, 1);
    });
  });

  describe('polling', () => {
    it('asks every discoveryInterval ms; the default (60 s) asks once meanwhile', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a)]);
      const slowEndpoint = await ScriptedEndpoint.start();
      try {
        slowEndpoint.serve(1, [nodeLine('node1.local', a)]);
        const slow = group({ discovery: 'elasticache' }, slowEndpoint.address);
        await slow.noop();
        const fast = group({ discovery: 'elasticache', discoveryInterval: 100 });
        await fast.noop();
        await endpoint.waitForAsks(5);
        assert.equal(slowEndpoint.asks.length, 1);
      } finally {
        await slowEndpoint.stop();
      }
    });

    it('close() stops polling and closes the endpoint connection', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a)]);
      const g = new Group([endpoint.address], { discovery: 'elasticache', discoveryInterval: 50 });
      await g.noop();
      await endpoint.waitForAsks(3);
      await g.close();
      await endpoint.waitForNoConnection();
      const asked = endpoint.asks.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(endpoint.asks.length, asked);
      assert.equal(endpoint.connections, 1);
    });

    it('a group left open does not keep the process alive', async () => {
      endpoint = await ScriptedEndpoint.start();
      endpoint.serve(1, [nodeLine('node1.local', a)]);
      const script = fileURLToPath(new URL('./exit-child.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, ENDPOINT: endpoint.address },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let code: number | null;
      try {
        code = await guard(exit, 30_000, 'the child process did not exit');
      } finally {
        child.kill('SIGKILL');
      }
      assert.equal(code, 0, err);
      assert.equal(out.trim(), a.address);
      assert.ok(endpoint.asks.length >= 1);
    });
  });

  describe('options', () => {
    it('refuses a discovery group that lists other than one server, an unknown discovery, and a stray interval', async () => {
      const port = await freePort();
      const endpointAddress = `127.0.0.1:${port}`;
      assert.throws(() => new Group([endpointAddress, '127.0.0.1:2'], { discovery: 'elasticache' }), rejectsWith(ErrorCode.BAD_CONFIG, /exactly one server/));
      assert.throws(
        () => new Group([endpointAddress], { discovery: 'consul' as 'elasticache' }),
        rejectsWith(ErrorCode.BAD_CONFIG, /unknown discovery "consul"/),
      );
      assert.throws(() => new Group([endpointAddress], { discoveryInterval: 1000 }), rejectsWith(ErrorCode.BAD_CONFIG, /needs discovery/));
      assert.throws(() => new Group([endpointAddress], { discovery: 'elasticache', discoveryInterval: 0 }), rejectsWith(ErrorCode.BAD_ARGUMENT, /discoveryInterval/));
    });

    it('places by ketama: another distribution is refused, ketama accepted', async () => {
      const endpointAddress = `127.0.0.1:${await freePort()}`;
      for (const distribution of ['modula', 'libmemcached-consistent'] as const) {
        assert.throws(() => new Group([endpointAddress], { discovery: 'elasticache', distribution }), rejectsWith(ErrorCode.BAD_CONFIG, /ketama/));
      }
      await new Group([endpointAddress], { discovery: 'elasticache', distribution: 'ketama' }).close();
    });

    it('types the events by name', async () => {
      const g = new Group([`127.0.0.1:${await freePort()}`], { discovery: 'elasticache' });
      const seen: string[] = [];
      g.addEventListener('cluster-changed', (event) => {
        seen.push(event.nodes[0]?.hostname ?? '', String(event.previousVersion));
        // @ts-expect-error: a cluster change carries no error
        void event.error;
      });
      g.addEventListener('discovery-failed', (event) => seen.push(event.error.code, String(event.version)));
      await nextEvent(g, 'discovery-failed');
      await g.close();
      assert.deepEqual(seen.slice(0, 2), [ErrorCode.CONNECT, 'null']);
    });
  });
});

async function waitUntil(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function commandStats(server: MemcachedServer): Promise<Record<string, string>> {
  const direct = new Group([server.address]);
  try {
    return (await direct.stats()).get(server.address)!;
  } finally {
    await direct.close();
  }
}
