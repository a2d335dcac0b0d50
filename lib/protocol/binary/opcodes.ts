/** Binary-protocol opcodes that memcached 1.6 answers (protocol_binary.h). */
export const Opcode = {
  Get: 0x00,
  Set: 0x01,
  Add: 0x02,
  Replace: 0x03,
  Delete: 0x04,
  Increment: 0x05,
  Decrement: 0x06,
  Quit: 0x07,
  Flush: 0x08,
  GetQ: 0x09,
  Noop: 0x0a,
  Version: 0x0b,
  GetK: 0x0c,
  GetKQ: 0x0d,
  Append: 0x0e,
  Prepend: 0x0f,
  Stat: 0x10,
  SetQ: 0x11,
  AddQ: 0x12,
  ReplaceQ: 0x13,
  DeleteQ: 0x14,
  IncrementQ: 0x15,
  DecrementQ: 0x16,
  QuitQ: 0x17,
  FlushQ: 0x18,
  AppendQ: 0x19,
  PrependQ: 0x1a,
  // 0x1b Verbosity: memcached 1.6 sends no reply, so it is never sent.
  Touch: 0x1c,
  GAT: 0x1d,
  GATQ: 0x1e,
  SaslListMechs: 0x20,
  SaslAuth: 0x21,
  SaslStep: 0x22,
  GATK: 0x23,
  GATKQ: 0x24,
} as const;

export type Opcode = (typeof Opcode)[keyof typeof Opcode];

export const REQUEST_MAGIC = 0x80;
export const RESPONSE_MAGIC = 0x81;
export const HEADER_LENGTH = 24;

const names: string[] = [];
for (const [name, code] of Object.entries(Opcode)) names[code] = name;

/** Opcode name for messages ("Get", "SetQ"...), or hex for unknown ones. */
export function opcodeName(opcode: number): string {
  return names[opcode] ?? `0x${opcode.toString(16).padStart(2, '0')}`;
}
