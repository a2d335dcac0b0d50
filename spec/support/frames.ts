// Byte helpers for the specs: frames built independently of lib/protocol,
// straight from the table in shared/reference/protocol.md, with DataView.

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Bytes from hex digits; white space is ignored. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** 4-byte big-endian flags, as Get replies carry them. */
export function flagsOf(flags: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, flags);
  return out;
}

/** 8-byte big-endian integer, as counter replies carry it. */
export function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

export interface FrameFields {
  opcode: number;
  dataType?: number;
  /** Response status (requests: the vbucket, 0). */
  status?: number;
  opaque?: number;
  casHi?: number;
  casLo?: number;
  extras?: Uint8Array;
  key?: Uint8Array;
  value?: Uint8Array;
}

/** A frame with any magic byte (0x80 request, 0x81 response, anything else: corrupt). */
export function frame(magic: number, f: FrameFields): Uint8Array {
  const key = f.key ?? new Uint8Array(0);
  const extras = f.extras ?? new Uint8Array(0);
  const value = f.value ?? new Uint8Array(0);
  const out = new Uint8Array(24 + extras.length + key.length + value.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, magic);
  view.setUint8(1, f.opcode);
  view.setUint16(2, key.length);
  view.setUint8(4, extras.length);
  view.setUint8(5, f.dataType ?? 0);
  view.setUint16(6, f.status ?? 0);
  view.setUint32(8, extras.length + key.length + value.length);
  view.setUint32(12, f.opaque ?? 0);
  view.setUint32(16, f.casHi ?? 0);
  view.setUint32(20, f.casLo ?? 0);
  out.set(extras, 24);
  out.set(key, 24 + extras.length);
  out.set(value, 24 + extras.length + key.length);
  return out;
}

/** A request frame (magic 0x80). */
export const request = (f: FrameFields): Uint8Array => frame(0x80, f);
/** A response frame (magic 0x81). */
export const reply = (f: FrameFields): Uint8Array => frame(0x81, f);
