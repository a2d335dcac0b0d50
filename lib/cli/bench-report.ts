/** What memring bench reports: the --json object, and the table made from it. */
import type { LatencySummary } from './histogram.js';
import { count, percent, table } from './table.js';

export interface BenchReport {
  servers: string[];
  /** Whether memring started the memcached it measured. */
  embedded: boolean;
  memcached_version: Record<string, string>;
  distribution: string;
  protocol: string;
  concurrency: number;
  value_size: number;
  keys: number;
  mix: { get: number; set: number };
  multi: number | null;
  duration_sec: number;
  interrupted: boolean;
  ops: number;
  ops_per_sec: number;
  /** Keys read or written per second (getMulti counts each key). */
  keys_per_sec: number;
  gets: number;
  sets: number;
  hits: number;
  misses: number;
  latency_us: LatencySummary;
  failed: number;
  errors: Record<string, number>;
  per_server: {
    server: string;
    ops: number;
    ops_per_sec: number;
    keys: number;
    latency_us: LatencySummary;
    errors: Record<string, number>;
  }[];
  compare?: { raw_ops_per_sec: number; share: number };
  node: string;
}

export function formatReport(r: BenchReport): string {
  const ms = (us: number): string => (us / 1000).toFixed(3);
  const errorCount = (errors: Record<string, number>): number => Object.values(errors).reduce((a, b) => a + b, 0);
  const row = (name: string, ops: number, rate: number, l: LatencySummary, errors: number): string[] => [
    name,
    count(ops),
    count(rate),
    l.count === 0 ? '-' : ms(l.p50),
    l.count === 0 ? '-' : ms(l.p90),
    l.count === 0 ? '-' : ms(l.p99),
    l.count === 0 ? '-' : ms(l.p99_9),
    l.count === 0 ? '-' : ms(l.max),
    count(errors),
  ];
  const rows = [row('all', r.ops, r.ops_per_sec, r.latency_us, r.failed)];
  // Per server: single-key operations only (a getMulti spans servers); nothing to add for one server.
  const single = r.per_server.some((s) => s.ops > 0 || errorCount(s.errors) > 0);
  if (r.per_server.length > 1 && single) {
    for (const s of r.per_server) rows.push(row(s.server, s.ops, s.ops_per_sec, s.latency_us, errorCount(s.errors)));
  }
  const lines = [
    table(['', 'ops', 'ops/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors'], rows, 'lrrrrrrrr'),
  ];
  const reads = r.hits + r.misses;
  let summary = `${r.duration_sec.toFixed(2)} s${r.interrupted ? ' (interrupted)' : ''}; ${count(r.gets)} ${r.multi === null ? 'gets' : `getMulti calls (${count(r.keys_per_sec)} keys/s)`}`;
  if (reads > 0) summary += `, hits ${percent(r.hits / reads)}`;
  summary += `; ${count(r.sets)} sets`;
  if (r.multi !== null && r.per_server.length > 1) {
    summary +=
      `\ngetMulti keys per server: ${r.per_server.map((s) => `${s.server} ${count(s.keys)}`).join(', ')}` +
      (single ? ' (the server rows above count single-key operations)' : '');
  }
  lines.push(summary);
  const codes = Object.entries(r.errors);
  lines.push(
    codes.length === 0
      ? 'errors: none'
      : `errors: ${codes.map(([code, n]) => `${code} ${count(n)}`).join(', ')}`,
  );
  if (r.compare !== undefined) {
    lines.push(
      `raw sockets, prebuilt ${r.protocol === 'meta' ? 'mg requests' : r.protocol === 'text' ? 'get lines' : 'GET frames'}, ${r.concurrency} in flight: ${count(r.compare.raw_ops_per_sec)} ops/s; ` +
        `memring, gets only as they are, ${count(r.ops_per_sec)} ops/s = ${percent(r.compare.share)} of it`,
    );
  }
  return `${lines.join('\n')}\n`;
}
