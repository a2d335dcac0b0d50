/**
 * memring bench: load on real servers with N requests in flight (not one
 * await at a time), latency of every operation into fixed-bucket histograms
 * (nothing allocated per operation), results per server. Without --servers it
 * starts its own memcached on 127.0.0.1 and stops it afterwards.
 */
import { Group } from '../group.js';
import type { GroupOptions } from '../group-options.js';
import { Ring } from '../hash/ring.js';
import { parseServer } from '../hash/server.js';
import { isMemcacheError } from '../errors.js';
import {
  Exit,
  SECURITY_OPTIONS_HELP,
  SERVERS_ENV,
  UsageError,
  configuredServers,
  distribution as parseDistribution,
  protocol as parseProtocol,
  integer,
  out,
  parseCommand,
  positiveNumber,
  security,
  securityOptions,
  wantsSecurity,
} from './args.js';
import { type BenchReport, formatReport } from './bench-report.js';
import { Histogram } from './histogram.js';
import { LocalMemcached } from './local-memcached.js';
import { rawGets, type RawTarget } from './raw.js';
import { count } from './table.js';

export const BENCH_HELP = `Usage: memring bench [options]

Measures throughput and latency with many requests in flight. Without
--servers (or $${SERVERS_ENV}), starts a memcached of its own on a free port of
127.0.0.1 and stops it afterwards (memcached must be installed: apt-get install
-y memcached).
Keys are first stored (--keys of them), then read and written at random.

Options:
  -s, --servers LIST     host:port list, comma- or space-separated (default $${SERVERS_ENV},
                         else a local memcached started for the run); host:port:weight
                         for ketama weights
  -d, --distribution D   ketama (default), libmemcached-consistent or modula
  -p, --protocol P       meta (default), binary or text (through twemproxy or mcrouter:
                         --servers names the proxy)
  -t, --duration SECONDS how long to run (default 5)
  -n, --ops N            run N operations instead of a duration
  -c, --concurrency N    requests in flight (default 64)
      --value-size BYTES size of the values stored (default 100)
      --keys N           distinct keys, memring-bench:0 ... (default 10000)
      --mix GET:SET      ratio of gets to sets (default 9:1; 1:0 = gets only)
      --multi N          gets are getMulti calls of N keys each
      --compare raw      also measure raw sockets sending prebuilt gets (in --protocol) at the
                         same concurrency, and print memring's share of their rate; the raw
                         sockets send only gets, so memring runs gets only too (--mix 1:0,
                         the default with --compare; another --mix or --multi is refused),
                         and they speak plain text: no --tls or --sasl-user
      --timeout MS       per-operation timeout in milliseconds (default 1000)
${SECURITY_OPTIONS_HELP}
      --json             print the result as one JSON object (ops_per_sec, latency_us, ...)
  -h, --help             this help

Latency is that of successful operations, in ms (µs in JSON). A progress line
is shown while running when standard output is a terminal. Exit 0 when every
operation succeeded, 1 when any failed (the report says which, by error code),
130 when interrupted (Ctrl-C; partial results are printed).`;

interface ServerStats {
  ops: number;
  /** Keys asked for by getMulti calls, which cover several servers. */
  keys: number;
  errors: Map<string, number>;
  latency: Histogram;
}

class Stats {
  ops = 0;
  gets = 0;
  sets = 0;
  hits = 0;
  misses = 0;
  failed = 0;
  readonly errors = new Map<string, number>();
  readonly latency = new Histogram();
  readonly servers: ServerStats[];

  constructor(serverCount: number) {
    this.servers = Array.from({ length: serverCount }, () => ({
      ops: 0,
      keys: 0,
      errors: new Map<string, number>(),
      latency: new Histogram(),
    }));
  }
}

interface Workload {
  group: Group;
  keys: string[];
  /** Server index of each key. */
  owners: Uint16Array;
  value: Uint8Array;
  getShare: number;
  multi: number;
  /** Operations still to start; Infinity in a timed run. */
  left: number;
  /** performance.now() time to stop at, or Infinity. */
  deadline: number;
  stopped: boolean;
}

function bump(map: Map<string, number>, code: string): void {
  map.set(code, (map.get(code) ?? 0) + 1);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One of `concurrency` loops, each with one request in flight at a time. */
async function worker(w: Workload, s: Stats): Promise<void> {
  const { group, keys, owners, value, getShare, multi } = w;
  const n = keys.length;
  const batch: string[] = new Array<string>(multi);
  const batchOwners = new Uint16Array(multi);
  while (w.left > 0 && !w.stopped) {
    w.left--;
    const isGet = Math.random() < getShare;
    const k = (Math.random() * n) | 0;
    let owner = owners[k]!;
    const start = performance.now();
    try {
      if (isGet && multi > 0) {
        owner = -1;
        // Consecutive keys from a random one: distinct (up to --keys), spread over the servers.
        for (let i = 0, j = k; i < multi; i++, j = j + 1 === n ? 0 : j + 1) {
          batch[i] = keys[j]!;
          batchOwners[i] = owners[j]!;
        }
        const found = await group.getMulti(batch);
        for (let i = 0; i < multi; i++) {
          if (found.has(batch[i]!)) s.hits++;
          else s.misses++;
          s.servers[batchOwners[i]!]!.keys++;
        }
      } else if (isGet) {
        if ((await group.get(keys[k]!)) === null) s.misses++;
        else s.hits++;
      } else {
        await group.set(keys[k]!, value);
      }
      const ns = (performance.now() - start) * 1e6;
      s.latency.record(ns);
      s.ops++;
      if (isGet) s.gets++;
      else s.sets++;
      if (owner >= 0) {
        const server = s.servers[owner]!;
        server.ops++;
        server.latency.record(ns);
      }
    } catch (error) {
      const code = isMemcacheError(error) ? error.code : 'ERR_UNKNOWN';
      s.failed++;
      bump(s.errors, code);
      if (owner >= 0) bump(s.servers[owner]!.errors, code);
      // A down server fails calls at once: let timers and signals run between them.
      await nextTurn();
    }
    if (performance.now() >= w.deadline) w.stopped = true;
  }
}

async function runPhase(w: Workload, s: Stats, concurrency: number): Promise<number> {
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => worker(w, s)));
  return (performance.now() - start) / 1000;
}

interface Options {
  servers: string[] | undefined;
  distribution: ReturnType<typeof parseDistribution>;
  protocol: ReturnType<typeof parseProtocol>;
  duration: number | undefined;
  ops: number | undefined;
  concurrency: number;
  valueSize: number;
  keys: number;
  mix: { get: number; set: number };
  multi: number;
  compare: boolean;
  timeout: number;
  security: Pick<GroupOptions, 'tls' | 'sasl'>;
  json: boolean;
}

function parseOptions(args: string[]): Options | null {
  const { values, positionals } = parseCommand({
    args,
    options: {
      servers: { type: 'string', short: 's' },
      distribution: { type: 'string', short: 'd' },
      protocol: { type: 'string', short: 'p' },
      duration: { type: 'string', short: 't' },
      ops: { type: 'string', short: 'n' },
      concurrency: { type: 'string', short: 'c' },
      'value-size': { type: 'string' },
      keys: { type: 'string' },
      mix: { type: 'string' },
      multi: { type: 'string' },
      compare: { type: 'string' },
      timeout: { type: 'string' },
      ...securityOptions,
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) return null;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]!}"`);
  if (values.duration !== undefined && values.ops !== undefined) throw new UsageError('give --duration or --ops, not both');
  if (values.compare !== undefined && values.compare !== 'raw') {
    throw new UsageError(`--compare takes "raw", got "${values.compare}"`);
  }
  const compare = values.compare === 'raw';
  // Like with like: the raw sockets send only gets, so memring's side of a comparison does too.
  const mixText = values.mix ?? (compare ? '1:0' : '9:1');
  const mix = /^(\d{1,6}):(\d{1,6})$/.exec(mixText);
  if (mix === null || Number(mix[1]) + Number(mix[2]) === 0) {
    throw new UsageError(`--mix must be GET:SET, two integers such as 9:1 or 1:0, got "${mixText}"`);
  }
  if (compare && Number(mix[2]) > 0) {
    throw new UsageError(`--compare raw measures gets only (the raw sockets send nothing else): leave out --mix or give --mix 1:0, not ${mixText}`);
  }
  if (compare && values.multi !== undefined) {
    throw new UsageError('--compare raw sends single gets: it cannot be combined with --multi');
  }
  const secure = wantsSecurity(values);
  if (compare && secure) {
    throw new UsageError('--compare raw uses plain sockets without authentication: it cannot be combined with --tls or --sasl-user');
  }
  const servers = configuredServers(values.servers);
  if (servers === undefined && secure) {
    throw new UsageError(`--tls and --sasl-user need --servers (or $${SERVERS_ENV}): the memcached bench starts for itself is plain`);
  }
  return {
    servers,
    distribution: parseDistribution(values.distribution),
    protocol: parseProtocol(values.protocol),
    duration:
      values.ops === undefined ? positiveNumber('--duration', values.duration, 5, 24 * 3600) : undefined,
    ops: values.ops === undefined ? undefined : integer('--ops', values.ops, 0, 1, Number.MAX_SAFE_INTEGER),
    concurrency: integer('--concurrency', values.concurrency, 64, 1, 100_000),
    valueSize: integer('--value-size', values['value-size'], 100, 0, 1024 * 1024),
    keys: integer('--keys', values.keys, 10_000, 1, 10_000_000),
    mix: { get: Number(mix[1]), set: Number(mix[2]) },
    multi: integer('--multi', values.multi, 0, 1, 10_000),
    compare,
    timeout: integer('--timeout', values.timeout, 1000, 1, 3_600_000),
    security: security(values),
    json: values.json === true,
  };
}

export async function bench(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (options === null) {
    await out(`${BENCH_HELP}\n`);
    return Exit.OK;
  }
  let interrupted = false;
  let workload: Workload | undefined;
  let local: LocalMemcached | undefined;
  const onSignal = (): void => {
    if (interrupted) {
      // Second Ctrl-C: leave now (the local memcached is killed on exit).
      process.exit(Exit.INTERRUPTED);
    }
    interrupted = true;
    if (workload !== undefined) workload.stopped = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (options.servers === undefined) local = await LocalMemcached.start();
    if (interrupted) return Exit.INTERRUPTED;
    return await measure(options, local, () => interrupted, (w) => (workload = w));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await local?.stop();
  }
}

async function measure(
  o: Options,
  local: LocalMemcached | undefined,
  isInterrupted: () => boolean,
  expose: (w: Workload) => void,
): Promise<number> {
  const servers = o.servers ?? [local!.address];
  const group = new Group(servers, {
    distribution: o.distribution,
    protocol: o.protocol,
    timeout: o.timeout,
    connectTimeout: o.timeout,
    maxQueueSize: Math.max(10_000, o.concurrency),
    ...o.security,
  });
  try {
    const versions = await group.version();
    const names = group.serverNames;
    const ring = new Ring(servers, { distribution: o.distribution });
    const keys = Array.from({ length: o.keys }, (_, i) => `memring-bench:${i}`);
    const owners = Uint16Array.from(keys, (key) => ring.pick(key));
    const value = new Uint8Array(o.valueSize).fill(0x78);

    if (!o.json) {
      const where = local
        ? `1 server: ${local.version} started on ${local.address} for this run`
        : `${servers.length} server${servers.length === 1 ? '' : 's'}: ${names.map((n) => `${n} (${versions.get(n) ?? '?'})`).join(', ')}`;
      const length = o.ops === undefined ? `${o.duration} s` : `${count(o.ops)} ops`;
      await out(
        `memring bench, ${where}\n` +
          `${o.concurrency} in flight, ${count(o.valueSize)}-byte values, ${count(o.keys)} keys, ` +
          `get:set ${o.mix.get}:${o.mix.set}${o.multi > 0 ? `, gets as getMulti of ${o.multi} keys` : ''}, ` +
          `${o.distribution}, ${o.protocol} protocol, ${length}\n\n`,
      );
    }

    // Store every key first, so gets hit; this also warms the code up.
    const fill: Workload = {
      group,
      keys,
      owners,
      value,
      getShare: 0,
      multi: 0,
      left: o.keys,
      deadline: Infinity,
      stopped: false,
    };
    expose(fill);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(o.concurrency, o.keys) }, async () => {
        while (next < keys.length && !fill.stopped) {
          const key = keys[next++]!;
          try {
            await group.set(key, value);
          } catch (error) {
            fill.stopped = true;
            throw error;
          }
        }
      }),
    );
    if (isInterrupted()) return Exit.INTERRUPTED;

    const w: Workload = {
      group,
      keys,
      owners,
      value,
      getShare: o.mix.get / (o.mix.get + o.mix.set),
      multi: o.multi,
      left: o.ops ?? Infinity,
      deadline: o.duration === undefined ? Infinity : performance.now() + o.duration * 1000,
      stopped: false,
    };
    expose(w);
    const stats = new Stats(names.length);
    // Erased before the result is printed, so --json output stays clean on a terminal too.
    const progress = process.stdout.isTTY ? startProgress(w, stats, o) : undefined;
    const seconds = await runPhase(w, stats, o.concurrency).finally(() => progress?.stop());

    let compare: BenchReport['compare'];
    if (o.compare && !isInterrupted()) {
      const targets: RawTarget[] = [];
      const parsed = servers.map((s) => parseServer(s));
      for (let i = 0; i < parsed.length; i++) {
        const inFlight = Math.floor(o.concurrency / parsed.length) + (i < o.concurrency % parsed.length ? 1 : 0);
        if (inFlight === 0) continue;
        const own = keys.filter((_, j) => owners[j] === i).slice(0, inFlight);
        targets.push({
          host: parsed[i]!.host,
          port: parsed[i]!.port,
          keys: own.length > 0 ? own : [keys[0]!],
          inFlight,
          protocol: o.protocol,
        });
      }
      const raw = await rawGets(
        targets,
        o.ops === undefined ? { deadline: performance.now() + seconds * 1000 } : { ops: o.ops },
      );
      const rawRate = raw.ops / raw.seconds;
      compare = { raw_ops_per_sec: Math.round(rawRate), share: rawRate > 0 ? stats.ops / seconds / rawRate : 0 };
    }

    const report = buildReport(o, local, names, versions, stats, seconds, isInterrupted(), compare);
    await out(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    if (isInterrupted()) return Exit.INTERRUPTED;
    return stats.failed > 0 ? Exit.FAILED : Exit.OK;
  } finally {
    await group.close();
  }
}

function startProgress(w: Workload, s: Stats, o: Options): { stop(): void } {
  const start = performance.now();
  const total = o.ops;
  const timer = setInterval(() => {
    const elapsed = (performance.now() - start) / 1000;
    const rate = elapsed > 0 ? s.ops / elapsed : 0;
    const left =
      total === undefined
        ? Math.max(0, (w.deadline - performance.now()) / 1000)
        : rate > 0
          ? (total - s.ops - s.failed) / rate
          : NaN;
    const leftText = Number.isFinite(left) ? `${left.toFixed(1)} s left` : '';
    process.stdout.write(
      `\r\x1b[2K  ${count(rate)} ops/s  ${count(s.ops)} ops  errors ${count(s.failed)}  ${leftText}`,
    );
  }, 200);
  return {
    stop(): void {
      clearInterval(timer);
      process.stdout.write('\r\x1b[2K');
    },
  };
}

function buildReport(
  o: Options,
  local: LocalMemcached | undefined,
  names: string[],
  versions: Map<string, string>,
  s: Stats,
  seconds: number,
  interrupted: boolean,
  compare: BenchReport['compare'],
): BenchReport {
  const rate = (n: number): number => (seconds > 0 ? Math.round(n / seconds) : 0);
  const keysDone = o.multi > 0 ? s.gets * o.multi + s.sets : s.ops;
  return {
    servers: names,
    embedded: local !== undefined,
    memcached_version: Object.fromEntries(versions),
    distribution: o.distribution,
    protocol: o.protocol,
    concurrency: o.concurrency,
    value_size: o.valueSize,
    keys: o.keys,
    mix: o.mix,
    multi: o.multi > 0 ? o.multi : null,
    duration_sec: Math.round(seconds * 1000) / 1000,
    interrupted,
    ops: s.ops,
    ops_per_sec: rate(s.ops),
    keys_per_sec: rate(keysDone),
    gets: s.gets,
    sets: s.sets,
    hits: s.hits,
    misses: s.misses,
    latency_us: s.latency.summary(),
    failed: s.failed,
    errors: Object.fromEntries(s.errors),
    per_server: names.map((server, i) => {
      const st = s.servers[i]!;
      return {
        server,
        ops: st.ops,
        ops_per_sec: rate(st.ops),
        keys: st.keys,
        latency_us: st.latency.summary(),
        errors: Object.fromEntries(st.errors),
      };
    }),
    ...(compare === undefined ? {} : { compare }),
    node: process.version,
  };
}
