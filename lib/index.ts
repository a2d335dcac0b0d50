export { Group } from './group.js';
export type {
  CallOptions,
  ConcatOptions,
  CounterOptions,
  DeleteOptions,
  GroupOptions,
  StoreOptions,
  Value,
} from './group.js';
export { Item } from './item.js';
export { ErrorCode, MemcacheError, isMemcacheError } from './errors.js';
export type { MemcacheErrorOptions } from './errors.js';
export { parseServer, DEFAULT_PORT } from './address.js';
export type { ServerAddress, ServerInput } from './address.js';
export type { Transport, TransportEvents, TransportFactory, TransportOptions } from './net/transport.js';
export { Opcode } from './protocol/opcodes.js';
export { Status } from './protocol/status.js';
