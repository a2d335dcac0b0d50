// What `#zlib` is under the `workerd` and `worker` conditions: the runtime's
// CompressionStream / DecompressionStream ('deflate' is the zlib format),
// which Workers have without nodejs_compat. Both are asynchronous, so the
// transcoders using them return promises there.

interface ByteStreamPair {
  readonly writable: { getWriter(): { write(chunk: Uint8Array): Promise<void>; close(): Promise<void> } };
  readonly readable: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } };
}
declare const CompressionStream: new (format: 'deflate') => ByteStreamPair;
declare const DecompressionStream: new (format: 'deflate') => ByteStreamPair;

/** The zlib stream (RFC 1950) of `data`. */
export function deflate(data: Uint8Array): Promise<Uint8Array> {
  return pipe(new CompressionStream('deflate'), data, Infinity);
}

/** Inflates a zlib stream, refusing (RangeError) output over `limit` bytes. */
export function inflate(data: Uint8Array, limit: number): Promise<Uint8Array> {
  return pipe(new DecompressionStream('deflate'), data, limit);
}

async function pipe(stream: ByteStreamPair, data: Uint8Array, limit: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Written and closed without waiting: the reader below drains what it makes.
  const written = writer.write(data).then(() => writer.close());
  written.catch(() => {});
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value === undefined) continue;
    size += value.length;
    if (size > limit) throw new RangeError(`inflated data exceeds ${limit} bytes`);
    chunks.push(value);
  }
  await written;
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
