/**
 * The ceiling for `memring bench --compare raw`: plain sockets that keep N
 * prebuilt requests in flight (binary GET frames, meta `mg <key> v f c`
 * lines: what an Item holds, or text `get <key>` lines) and count replies with the least parsing that
 * finds their ends, with no client around them. memring's ops/s over this is
 * its share of what the server and the loopback can do from one Node process.
 */
import { connect, type Socket } from 'node:net';

export interface RawTarget {
  host: string;
  port: number;
  /** Keys to GET, cycled through the prebuilt frames. */
  keys: string[];
  /** Requests kept in flight on this socket. */
  inFlight: number;
  /** Wire format of the requests; default binary. */
  protocol?: 'binary' | 'meta' | 'text';
}

export interface RawResult {
  ops: number;
  seconds: number;
}

const HEADER = 24;

/** Requests for `count` gets cycling over `keys`, and where each one ends. */
function prebuilt(keys: string[], count: number, protocol: 'binary' | 'meta' | 'text'): { frames: Buffer; ends: number[] } {
  const parts: Buffer[] = [];
  const ends: number[] = [];
  let length = 0;
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(keys[i % keys.length]!);
    let frame: Buffer;
    if (protocol === 'meta') frame = Buffer.from(`mg ${keys[i % keys.length]!} v f c\r\n`);
    else if (protocol === 'text') frame = Buffer.from(`get ${keys[i % keys.length]!}\r\n`);
    else {
      frame = Buffer.alloc(HEADER + key.length);
      frame[0] = 0x80; // request magic; opcode 0x00 = GET
      frame.writeUInt16BE(key.length, 2);
      frame.writeUInt32BE(key.length, 8);
      key.copy(frame, HEADER);
    }
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
      const protocol = target.protocol ?? 'binary';
      const { frames, ends } = prebuilt(target.keys, target.inFlight, protocol);
      const replyEnds = protocol === 'meta' ? metaReplies() : protocol === 'text' ? textReplies() : null;
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
        if (replyEnds !== null) {
          replies = replyEnds(chunk);
          at = chunk.length;
        }
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

/**
 * Counts replies made of lines as they stream in, some lines followed by a
 * data block and its \r\n (passed over): `dataLength` reads a line's start
 * (at most `lineMax` bytes of it) and gives its block's length, or -1; with
 * `blockEnds` the block ends the reply (meta's VA), else a later line does
 * (text's END). Keeps only a counter and a little state.
 */
function lineReplies(lineMax: number, dataLength: (line: number[]) => number, blockEnds: boolean): (chunk: Buffer) => number {
  let skip = 0; // data bytes (and their \r\n) still to pass
  let line: number[] = []; // the start of a reply line split across chunks
  let inLine = false;
  return (chunk: Buffer): number => {
    let replies = 0;
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const take = Math.min(skip, chunk.length - at);
        skip -= take;
        at += take;
        if (skip === 0 && blockEnds) replies++;
        continue;
      }
      const end = chunk.indexOf(10, at);
      const stop = end < 0 ? chunk.length : end + 1;
      if (!inLine) line = [];
      for (let i = at; i < stop && line.length < lineMax; i++) line.push(chunk[i]!);
      at = stop;
      inLine = end < 0;
      if (inLine) continue;
      const length = dataLength(line);
      if (length >= 0) skip = length + 2;
      else replies++;
    }
    return replies;
  };
}

/** Meta replies: only a line's first bytes matter, "VA <n>" (n bytes of data follow) or anything else (EN, HD...). */
function metaReplies(): (chunk: Buffer) => number {
  return lineReplies(24, (line) => {
    if (line[0] !== 0x56 || line[1] !== 0x41) return -1;
    let n = 0;
    for (let i = 3; i < line.length && line[i]! >= 0x30 && line[i]! <= 0x39; i++) n = n * 10 + line[i]! - 0x30;
    return n;
  }, true);
}

/** Text get replies: END ends one; a `VALUE <key> <flags> <bytes>` line (at most its word, a 250-byte key and three numbers) is followed by <bytes>. */
function textReplies(): (chunk: Buffer) => number {
  return lineReplies(320, (line) => {
    if (line[0] !== 0x56 /* V */) return -1;
    // The fourth token is the data's length.
    let spaces = 0;
    let n = 0;
    for (let i = 0; i < line.length && line[i] !== 0x0d; i++) {
      if (line[i] === 0x20) spaces++;
      else if (spaces === 3) n = n * 10 + line[i]! - 0x30;
    }
    return n;
  }, false);
}
