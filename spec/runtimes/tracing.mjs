// Counts what memring publishes on the TracingChannel `memring:command`, in a
// runtime that offers node:diagnostics_channel. Asked through
// process.getBuiltinModule, the one way every runtime here has (workerd only
// with nodejs_compat): a static import would not bundle for workerd without it.

export function traceCommands() {
  const diagnostics = globalThis.process?.getBuiltinModule?.('node:diagnostics_channel');
  if (typeof diagnostics?.tracingChannel !== 'function') return { counts: null, stop() {} };
  const counts = { start: 0, asyncEnd: 0, error: 0, operations: {} };
  const handlers = {
    start(context) {
      counts.start++;
      counts.operations[context.operation] = (counts.operations[context.operation] ?? 0) + 1;
    },
    end() {},
    asyncStart() {},
    asyncEnd() {
      counts.asyncEnd++;
    },
    error() {
      counts.error++;
    },
  };
  const channel = diagnostics.tracingChannel('memring:command');
  channel.subscribe(handlers);
  return { counts, stop: () => channel.unsubscribe(handlers) };
}
