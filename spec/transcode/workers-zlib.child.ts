// Run by workers-zlib.spec.ts under tsconfig.workers-zlib.json, where `#zlib`
// is the Workers file (CompressionStream, asynchronous). Reads a JSON request
// on stdin: { encode: [[transcoder, value]], decode: [[transcoder, hex, flags]] },
// prints { zlib, encoded: [{ hex, flags, promised }], decoded: [{ value, promised }] }.
import { JsonTranscoder, PhpTranscoder, PythonTranscoder, type Transcoder } from '../../lib/index.js';
import { deflate } from '#zlib';

const transcoders: Record<string, Transcoder<any, any>> = {
  php: new PhpTranscoder(),
  python: new PythonTranscoder(),
  json: new JsonTranscoder(),
};

const request = JSON.parse(await new Response(process.stdin as unknown as ReadableStream).text()) as {
  encode: [string, unknown][];
  decode: [string, string, number][];
};
const encoded = [];
for (const [name, value] of request.encode) {
  const result = transcoders[name]!.encode(value);
  const done = await result;
  encoded.push({ hex: Buffer.from(done.value).toString('hex'), flags: done.flags, promised: result instanceof Promise });
}
const decoded = [];
for (const [name, hex, flags] of request.decode) {
  const result = transcoders[name]!.decode(new Uint8Array(Buffer.from(hex, 'hex')), flags);
  const value = await result;
  decoded.push({ value, promised: result instanceof Promise });
}
// Which #zlib this process runs: the Workers file returns a promise.
const zlib = deflate(new Uint8Array(1)) instanceof Promise ? 'streams' : 'node:zlib';
console.log(JSON.stringify({ zlib, encoded, decoded }));
