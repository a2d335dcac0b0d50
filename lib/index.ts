export { Group, ServerEvent } from './group.js';
export { ClusterChangedEvent, DiscoveryFailedEvent } from './group.js';
export type { ClusterEventType, ClusterNode, GroupEventType } from './group.js';
export type {
  ServerEventType,
  GroupEventListener,
  GroupEventMap,
  CallOptions,
  ConcatOptions,
  CounterOptions,
  DeleteOptions,
  GroupOptions,
  StoreOptions,
  Value,
} from './group.js';
export { Item } from './item.js';
export type { StoreOptionsFor } from './group.js';
export type { Factory, GetOrSetOptions, GetOrSetOptionsFor, InvalidateOptions } from './group.js';
export type { Encoded, Transcoder } from './transcode/transcoder.js';
export type { Decoded, Encodable, TranscoderChoice, TranscoderName, TranscoderTypes } from './transcode/registry.js';
export { DecodeError, GetMultiDecodeError } from './transcode/decode-error.js';
export { PhpTranscoder, type PhpTranscoderOptions, type PhpValue } from './transcode/php.js';
export { PythonTranscoder, type PythonTranscoderOptions, type PythonValue } from './transcode/python.js';
export { JsonTranscoder, type JsonTranscoderOptions, type JsonValue } from './transcode/json.js';
export { KamailioTranscoder } from './transcode/kamailio.js';
export { fastlzDecode, fastlzEncode } from './compress/fastlz.js';
export type { ItemJSON } from './item.js';
export { CacheAPI } from './cache-api.js';
export { parseGroupSpec } from './group-spec.js';
export type { GroupSpec } from './group-spec.js';
export { ErrorCode, MemcacheError, isMemcacheError } from './errors.js';
export type { MemcacheErrorOptions } from './errors.js';
export { Ring } from './hash/ring.js';
export type { Distribution, RingOptions } from './hash/ring.js';
export type { KeyHash } from './hash/key-hash.js';
export { md5 } from './hash/md5.js';
export { oneAtATime } from './hash/one-at-a-time.js';
export { parseServer, toServer, DEFAULT_PORT } from './hash/server.js';
export type { Server, ServerInput, ServerSpec } from './hash/server.js';
export type { TlsOptions, Transport, TransportEvents, TransportFactory, TransportOptions } from './net/transport.js';
export type { SaslCredentials } from './net/credentials.js';
// The binary protocol's statuses: what MemcacheError.status holds, whatever the protocol.
export { Status } from './protocol/status.js';
export type { Protocol } from './group-options.js';
// What memring:command publishes (README, "Observability").
export type { CommandContext, ConnectionMessage } from './diagnostics/command-context.js';
