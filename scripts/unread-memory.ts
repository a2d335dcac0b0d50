// How much memory concurrent big sets hold against a server that accepts
// connections and never reads (issue: memory bounded by bytes). Prints the
// growth of heap + ArrayBuffers while the sets wait, and how many were refused.
//   node --import tsx scripts/unread-memory.ts [sets=2000] [valueBytes=500000] [protocol=meta]
import { createServer, type Socket } from 'node:net';
import { Group } from '../lib/index.js';

const [count = 2000, size = 500_000] = process.argv.slice(2, 4).map(Number);
const protocol = (process.argv[4] ?? 'meta') as 'meta' | 'binary';
const sockets: Socket[] = [];
const deaf = createServer({ pauseOnConnect: true }, (socket) => void sockets.push(socket.on('error', () => {})));
await new Promise<void>((resolve) => deaf.listen(0, '127.0.0.1', resolve));
const { port } = deaf.address() as { port: number };
const group = new Group([`127.0.0.1:${port}`], { timeout: 3000, protocol });
const held = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
const value = 'x'.repeat(size);
const before = held();
const calls = Array.from({ length: count }, (_, i) => group.set(`big:${i}`, value).catch((e: { code: string }) => e.code));
await new Promise((resolve) => setTimeout(resolve, 500));
const grown = (held() - before) / 2 ** 20;
const codes = await Promise.all(calls);
const tally: Record<string, number> = {};
for (const code of codes) tally[String(code)] = (tally[String(code)] ?? 0) + 1;
console.log(`${count} sets of ${size} bytes (${protocol}): memory grew ${grown.toFixed(0)} MiB while they waited; outcomes ${JSON.stringify(tally)}`);
await group.close();
for (const socket of sockets) socket.destroy();
deaf.close();
