// A Worker, as the README shows one: a Group per request, closed when the
// request is done (ctx.waitUntil). The spec sends it:
//   /?servers=a,b&prefix=P&protocol=meta|binary   the workload
//   /limit                   a Group of 7 sockets, over a request's limit
//   /tls?server=a            set and get over TLS (a CA the runtime was told to trust)
//   /tls-ca?server=a         TLS with a setting Workers cannot honour
//   /refused?server=a        a server that is not listening
//   /shared?servers=a        a Group kept across requests (the pattern not to follow)
import { Group } from 'memring';
import { workload } from './workload.mjs';
import { traceCommands } from './tracing.mjs';

let shared;

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const param = (name) => url.searchParams.get(name);
    try {
      switch (url.pathname) {
        case '/':
          return await withGroup(ctx, param('servers').split(','), { protocol: param('protocol') }, async (group) => {
            const trace = traceCommands();
            try {
              return {
                runtime: navigator.userAgent,
                setImmediate: typeof setImmediate,
                checks: await workload(group, param('prefix')),
                tracing: trace.counts,
              };
            } finally {
              trace.stop();
            }
          });
        case '/limit':
          new Group(Array.from({ length: 7 }, (_, i) => `127.0.0.1:${20000 + i}`));
          return Response.json({ accepted: true });
        case '/tls':
        case '/tls-ca':
          return await withGroup(ctx, [param('server')], { tls: url.pathname === '/tls' ? true : { ca: 'PEM' } }, async (group) => {
            await group.set('tls', 'over TLS');
            return { got: (await group.get('tls'))?.text };
          });
        case '/refused':
          return await withGroup(ctx, [param('server')], {}, async (group) => ({ got: await group.get('k') }));
        case '/shared':
          shared ??= new Group(param('servers').split(','));
          await shared.set('shared', 'across requests');
          return Response.json({ got: (await shared.get('shared'))?.text });
      }
      return new Response('not found', { status: 404 });
    } catch (error) {
      return Response.json({ code: error.code ?? error.name, message: error.message, cause: error.cause?.code }, { status: 500 });
    }
  },
};

/** The per-request pattern: the Group is closed once the response is out. */
async function withGroup(ctx, servers, options, use) {
  const group = new Group(servers, { timeout: 5000, ...options });
  try {
    return Response.json(await use(group));
  } finally {
    ctx.waitUntil(group.close());
  }
}
