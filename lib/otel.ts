/**
 * `memring/otel`: the `memring:command` channel as OpenTelemetry spans and the
 * `db.client.operation.duration` histogram, after the database semantic
 * conventions. It takes the application's own @opentelemetry/api tracer and
 * meter, typed here by the little of them it calls, so memring depends on no
 * OpenTelemetry package.
 */
import { command } from '#diagnostics';
import type { CommandContext } from './diagnostics/command-context.js';

export type OtelAttributeValue = string | number | boolean;
export type OtelAttributes = Record<string, OtelAttributeValue | undefined>;

/** What memring calls on an @opentelemetry/api Span. */
export interface OtelSpan {
  setAttribute(key: string, value: OtelAttributeValue): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** What memring calls on an @opentelemetry/api Tracer. */
export interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: OtelAttributes }): OtelSpan;
}

export interface OtelHistogram {
  record(value: number, attributes?: OtelAttributes): void;
}

/** What memring calls on an @opentelemetry/api Meter. */
export interface OtelMeter {
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): OtelHistogram;
}

export interface InstrumentOptions {
  /** Spans, one per Group call, named by the operation (get, set, getMulti...). */
  tracer?: OtelTracer;
  /** The `db.client.operation.duration` histogram, in seconds. */
  meter?: OtelMeter;
}

/** SpanKind.CLIENT and SpanStatusCode.ERROR of @opentelemetry/api. */
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;

/** The semantic conventions' advice for db.client.operation.duration. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

interface Open {
  span: OtelSpan | undefined;
  started: number;
}

/**
 * Subscribes to `memring:command` and reports every Group call: a CLIENT span
 * named by the operation with `db.system.name` "memcached",
 * `db.operation.name`, `server.address` and `server.port` (one server
 * involved), `error.type` (the MemcacheError code) and status ERROR on a
 * rejection; for getMulti `db.operation.batch.size` and `db.memcached.keys`,
 * `.hits`, `.misses`; for get and gat `db.memcached.hit`. Returns the function
 * that unsubscribes. Under the `workerd` and `worker` conditions the channels
 * are silent: it reports nothing (README, "Observability").
 */
export function instrument(options: InstrumentOptions = {}): () => void {
  const { tracer, meter } = options;
  const duration = meter?.createHistogram('db.client.operation.duration', {
    description: 'Duration of memcached client operations',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const open = new WeakMap<object, Open>();

  const onStart = (message: unknown): void => {
    const context = message as CommandContext;
    const span = tracer?.startSpan(context.operation, { kind: SPAN_KIND_CLIENT, attributes: commonAttributes(context) });
    open.set(context, { span, started: performance.now() });
  };

  const onAsyncEnd = (message: unknown): void => {
    const context = message as CommandContext;
    const call = open.get(context);
    if (call === undefined) return;
    open.delete(context);
    const seconds = (performance.now() - call.started) / 1000;
    const errorType = context.error === undefined ? undefined : errorTypeOf(context.error);
    const span = call.span;
    if (span !== undefined) {
      // A multi-server getMulti learns its one server (if one) only after its start.
      if (context.server !== undefined) {
        span.setAttribute('server.address', context.host!);
        span.setAttribute('server.port', context.port!);
      }
      if (context.keys !== undefined) {
        if (context.keys > 1) span.setAttribute('db.operation.batch.size', context.keys);
        span.setAttribute('db.memcached.keys', context.keys);
      }
      if (context.hits !== undefined) span.setAttribute('db.memcached.hits', context.hits);
      if (context.misses !== undefined) span.setAttribute('db.memcached.misses', context.misses);
      if (context.hit !== undefined) span.setAttribute('db.memcached.hit', context.hit);
      if (errorType !== undefined) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: STATUS_ERROR, message: (context.error as Error).message });
      }
      span.end();
    }
    if (duration !== undefined) {
      const attributes = commonAttributes(context);
      if (errorType !== undefined) attributes['error.type'] = errorType;
      duration.record(seconds, attributes);
    }
  };

  command.start.subscribe(onStart);
  command.asyncEnd.subscribe(onAsyncEnd);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    command.start.unsubscribe(onStart);
    command.asyncEnd.unsubscribe(onAsyncEnd);
  };
}

function commonAttributes(context: CommandContext): OtelAttributes {
  const attributes: OtelAttributes = {
    'db.system.name': 'memcached',
    'db.operation.name': context.operation,
  };
  if (context.server !== undefined) {
    attributes['server.address'] = context.host;
    attributes['server.port'] = context.port;
  }
  return attributes;
}

/** The MemcacheError code (MC_ERR_TIMEOUT...), else the error's class name, as error.type wants a low-cardinality name. */
function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : '_OTHER';
}
