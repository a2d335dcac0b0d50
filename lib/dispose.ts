/**
 * `await using` for Group and CacheAPI. At run time the key is
 * `Symbol.asyncDispose` where the runtime has it (Node 22+, Bun, Deno; recent
 * Node 20 releases define it as `Symbol.for('nodejs.asyncDispose')`), else that
 * same registered symbol, so an older Node 20 still has the method under the
 * key its later releases use.
 * @internal
 */
export const asyncDispose: symbol =
  (Symbol as { readonly asyncDispose?: symbol }).asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/**
 * The type of `[Symbol.asyncDispose](): Promise<void>` where the compiler
 * knows the symbol (lib `esnext.disposable` or `esnext`, or @types/node), and
 * no member where it does not: naming `Symbol.asyncDispose` in a declaration
 * file would break the build of every consumer whose lib lacks it.
 */
export type AsyncDisposableWhereTyped = SymbolConstructor extends { readonly asyncDispose: infer K extends symbol }
  ? { readonly [P in K]: () => Promise<void> }
  : {};

/**
 * Puts `[asyncDispose]() { return this.close(); }` on a class's prototype (kept out of its declaration: see above).
 * @internal
 */
export function disposeByClosing(prototype: { close(): Promise<void> }): void {
  Object.defineProperty(prototype, asyncDispose, {
    value: function (this: { close(): Promise<void> }): Promise<void> {
      return this.close();
    },
    writable: true,
    configurable: true,
  });
}
