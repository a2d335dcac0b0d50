// Micro-benchmark helpers shared by the *.bench.ts files. Figures are taken
// as the median of several rounds, so one noisy round on a shared machine
// does not decide the result; compare ratios taken in the same run.

export interface Measurement {
  name: string;
  /** Median nanoseconds per operation over the rounds. */
  nsPerOp: number;
  opsPerSec: number;
}

export interface MeasureOptions {
  /** Operations per round. */
  iterations?: number;
  rounds?: number;
}

/** Sink that the optimiser cannot prove unused. */
export let blackhole: unknown;
export function consume(value: unknown): void {
  blackhole = value;
}

export function measure(name: string, fn: (i: number) => unknown, options: MeasureOptions = {}): Measurement {
  const iterations = options.iterations ?? 200_000;
  const rounds = options.rounds ?? 7;
  for (let i = 0; i < Math.min(iterations, 50_000); i++) consume(fn(i));
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) blackhole = fn(i);
    const elapsed = Number(process.hrtime.bigint() - start);
    samples.push(elapsed / iterations);
  }
  samples.sort((a, b) => a - b);
  const nsPerOp = samples[Math.floor(samples.length / 2)]!;
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
}

/** Async variant: `fn` runs one batch and resolves with the number of operations it did. */
export async function measureAsync(
  name: string,
  fn: () => Promise<number>,
  options: { rounds?: number; warmup?: number } = {},
): Promise<Measurement> {
  const rounds = options.rounds ?? 5;
  for (let w = 0; w < (options.warmup ?? 1); w++) await fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    const ops = await fn();
    samples.push(Number(process.hrtime.bigint() - start) / ops);
  }
  samples.sort((a, b) => a - b);
  const nsPerOp = samples[Math.floor(samples.length / 2)]!;
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
}

function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Prints rows as a Markdown table; `baseline` names the row the ratio column divides by. */
export function report(title: string, rows: Measurement[], baseline?: string): void {
  const base = rows.find((r) => r.name === baseline);
  console.log(`\n### ${title}\n`);
  console.log('| case | ns/op | ops/s |' + (base ? ` vs ${base.name} |` : ''));
  console.log('|---|---:|---:|' + (base ? '---:|' : ''));
  for (const row of rows) {
    const ratio = base ? ` ${fmt(base.nsPerOp / row.nsPerOp, 2)}x |` : '';
    console.log(`| ${row.name} | ${fmt(row.nsPerOp)} | ${fmt(row.opsPerSec, 0)} |${ratio}`);
  }
}

/** Rounds of the end-to-end benchmarks (env ROUNDS). */
export const ROUNDS = Number(process.env['ROUNDS'] ?? 7);

/** Runs `ops` calls of `call` with `concurrency` workers, each awaiting its own call; resolves to `ops`. */
export async function inFlight(concurrency: number, ops: number, call: () => Promise<unknown>): Promise<number> {
  let left = ops;
  const worker = async (): Promise<void> => {
    while (left-- > 0) await call();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ops;
}

/**
 * Runs the cases round-robin, so a noisy moment on a shared machine hits
 * every case alike, and reports the median ns per operation of each. Each
 * case resolves to the number of operations it did.
 */
export async function interleaved(cases: [string, () => Promise<number>][], rounds = ROUNDS): Promise<Measurement[]> {
  for (const [, run] of cases) await run();
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, run]] of cases.entries()) {
      const start = process.hrtime.bigint();
      const ops = await run();
      samples[i]!.push(Number(process.hrtime.bigint() - start) / ops);
    }
  }
  return cases.map(([name], i) => {
    const sorted = samples[i]!.sort((a, b) => a - b);
    const nsPerOp = sorted[Math.floor(sorted.length / 2)]!;
    return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
  });
}

export interface CpuMeasurement extends Measurement {
  /** Median of the Node process's CPU time (user + system) per operation, in ns, over the rounds. */
  cpuNsPerOp: number;
}

/** interleaved(), also taking the process's CPU time (user + system) per operation in each round. */
export async function interleavedWithCpu(cases: [string, () => Promise<number>][], rounds = ROUNDS): Promise<CpuMeasurement[]> {
  for (const [, run] of cases) await run();
  const samples = cases.map(() => [] as number[]);
  const cpu = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, run]] of cases.entries()) {
      const before = process.cpuUsage();
      const start = process.hrtime.bigint();
      const ops = await run();
      samples[i]!.push(Number(process.hrtime.bigint() - start) / ops);
      const used = process.cpuUsage(before);
      cpu[i]!.push(((used.user + used.system) * 1000) / ops);
    }
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return cases.map(([name], i) => {
    const nsPerOp = median(samples[i]!);
    return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp, cpuNsPerOp: median(cpu[i]!) };
  });
}
