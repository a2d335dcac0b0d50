/**
 * The ceiling for `memring bench --compare raw`: plain sockets that keep N
 * prebuilt binary GET frames in flight and count replies by their length
 * fields, with no client around them. memring's ops/s over this is its share
 * of what the server and the loopback can do from one Node process.
 */
import { connect, type Socket } from 'node:net';

export interface RawTarget {
  host: string;
  port: number;
  /** Keys to GET, cycled through the prebuilt frames. */
  keys: string[];
  /** Requests kept in flight on this socket. */
  inFlight: number;
}

export interface RawResult {
  ops: number;
  seconds: number;
}

const HEADER = 24;

/** GET frames for `count` requests cycling over `keys`, and where each frame ends. */
function prebuilt(keys: string[], count: number): { frames: Buffer; ends: number[] } {
  const parts: Buffer[] = [];
  const ends: number[] = [];
  let length = 0;
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(keys[i % keys.length]!);
    const frame = Buffer.alloc(HEADER + key.length);
    frame[0] = 0x80; // request magic; opcode 0x00 = GET
    frame.writeUInt16BE(key.length, 2);
    frame.writeUInt32BE(key.length, 8);
    key.copy(frame, HEADER);
    parts.push(frame);
    length += frame.length;
    ends.push(length);
  }
  return { frames: Buffer.concat(parts), ends };
}

/**
 * Runs until `deadline` (a performance.now() time) or until `ops` replies
 * in total, whichever is given; resolves to the replies counted and the time taken.
 */
export function rawGets(targets: RawTarget[], limit: { deadline?: number; ops?: number }): Promise<RawResult> {
  const start = performance.now();
  let left = limit.ops ?? Infinity;
  let done = 0;
  let open = targets.length;
  const sockets: Socket[] = [];
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      if (--open > 0) return;
      resolve({ ops: done, seconds: (performance.now() - start) / 1000 });
    };
    for (const target of targets) {
      const { frames, ends } = prebuilt(target.keys, target.inFlight);
      const socket = connect({ host: target.host, port: target.port, noDelay: true });
      sockets.push(socket);
      let outstanding = 0;
      const header = Buffer.alloc(HEADER);
      let headerHave = 0;
      let bodyLeft = 0;
      const send = (count: number): void => {
        const n = Math.min(count, left);
        if (n <= 0) return;
        left -= n;
        outstanding += n;
        socket.write(n === ends.length ? frames : frames.subarray(0, ends[n - 1]));
      };
      socket.on('error', (error) => {
        for (const s of sockets) s.destroy();
        reject(error);
      });
      socket.on('connect', () => {
        send(target.inFlight);
        // The other sockets already took every operation of an --ops run.
        if (outstanding === 0) {
          socket.destroy();
          finish();
        }
      });
      socket.on('data', (chunk: Buffer) => {
        let replies = 0;
        let at = 0;
        while (at < chunk.length) {
          if (bodyLeft > 0) {
            const take = Math.min(bodyLeft, chunk.length - at);
            bodyLeft -= take;
            at += take;
            if (bodyLeft === 0) replies++;
          } else if (headerHave === 0 && chunk.length - at >= HEADER) {
            bodyLeft = chunk.readUInt32BE(at + 8);
            at += HEADER;
            if (bodyLeft === 0) replies++;
          } else {
            const take = Math.min(HEADER - headerHave, chunk.length - at);
            chunk.copy(header, headerHave, at, at + take);
            headerHave += take;
            at += take;
            if (headerHave === HEADER) {
              headerHave = 0;
              bodyLeft = header.readUInt32BE(8);
              if (bodyLeft === 0) replies++;
            }
          }
        }
        done += replies;
        outstanding -= replies;
        const expired = limit.deadline !== undefined && performance.now() >= limit.deadline;
        if (!expired) send(replies);
        if (outstanding === 0 && (expired || left <= 0)) {
          socket.destroy();
          finish();
        }
      });
    }
  });
}
