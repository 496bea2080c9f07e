import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Consumer, type RelayConnection } from '../relay/consumer.js';
import { isRouterLike, type AgiHandler, type RouterLike } from '../server/router.js';

/** A Relay consumer class, as a module exports it. */
export type ConsumerClass = new (connection?: RelayConnection) => Consumer;

/** What an application module exports as default: one handler for every call, a router, or a Relay consumer class. */
export type AppExport = AgiHandler | RouterLike | ConsumerClass;

/**
 * `true` for a {@link Consumer} subclass (also one from another copy of agikit: a class with the
 * consumer's `setup` and `run`), as opposed to a handler function.
 */
export function isConsumerClass(value: unknown): value is ConsumerClass {
  if (typeof value !== 'function') return false;
  const proto = (value as { prototype?: unknown }).prototype as Record<string, unknown> | undefined;
  if (proto instanceof Consumer) return true;
  return typeof proto?.['run'] === 'function' && typeof proto['setup'] === 'function' && typeof proto['router'] === 'function';
}

/**
 * What a simulated or replayed call runs for a module's default export: the handler or router
 * itself, or a consumer's router (no AMI: the AGI-only subset).
 */
export function routable(app: AppExport, connection: RelayConnection = {}): AgiHandler | RouterLike {
  return isConsumerClass(app) ? new app(connection).router() : app;
}

/** File names Node cannot import without a TypeScript loader. */
const TYPESCRIPT_FILE = /\.(c|m)?tsx?$/i;

/**
 * How a TypeScript module gets loaded, given what this Node has: its own type stripping (Node 22.18+
 * and 23.6+ strip types by default), else `tsx` if it can be found, else nothing (and a one-line
 * hint). Pure, so the choice and the hint are tested without uninstalling anything.
 */
export function chooseTypeScriptLoader(found: { nodeStripsTypes: boolean; tsxPath: string | undefined; nodeVersion: string }):
  | { kind: 'node' }
  | { kind: 'tsx'; path: string }
  | { kind: 'none'; hint: string } {
  if (found.nodeStripsTypes) return { kind: 'node' };
  if (found.tsxPath) return { kind: 'tsx', path: found.tsxPath };
  return {
    kind: 'none',
    hint: `Node ${found.nodeVersion} cannot load TypeScript by itself: install tsx (npm i -D tsx), use Node 22.18+, or compile with tsc and serve the .js`,
  };
}

/**
 * Where `tsx`'s ESM loader is (importing it registers its hooks), looked up from the working
 * directory (the user's project) first, then from agikit.
 */
function findTsx(): string | undefined {
  for (const base of [resolve(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      return createRequire(base).resolve('tsx/esm');
    } catch {
      // not installed there
    }
  }
  return undefined;
}

let typeScriptReady: Promise<void> | undefined;

/** Makes `import()` of `.ts` files work in this process, once; rejects with the hint when it cannot. */
function enableTypeScript(): Promise<void> {
  typeScriptReady ??= (async () => {
    const features = process.features as { typescript?: string | false };
    const loader = chooseTypeScriptLoader({ nodeStripsTypes: Boolean(features.typescript), tsxPath: findTsx(), nodeVersion: process.version });
    if (loader.kind === 'none') throw new Error(loader.hint);
    if (loader.kind === 'tsx') await import(pathToFileURL(loader.path).href);
  })();
  return typeScriptReady;
}

/**
 * Imports a module (a path relative to the working directory) and returns its namespace. JavaScript
 * is imported as it is; TypeScript through Node's own type stripping or `tsx` (see
 * {@link chooseTypeScriptLoader}). A failure is one line. Imports are cached.
 */
export async function loadModule(modulePath: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(modulePath)).href;
  try {
    if (TYPESCRIPT_FILE.test(modulePath)) await enableTypeScript();
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`cannot load ${modulePath}: ${message}`);
  }
}

/**
 * Imports an application module and returns its default export, which must be a handler function,
 * a `Router`, or a Relay `Consumer` subclass. Throws an Error with a one-line message otherwise.
 */
export async function loadApp(modulePath: string): Promise<AppExport> {
  const app = (await loadModule(modulePath)).default;
  if (isConsumerClass(app)) return app;
  if (typeof app === 'function') return app as AgiHandler;
  if (isRouterLike(app)) return app;
  throw new Error(`${modulePath} must export default a handler function (agi) => …, a Router, or a Relay Consumer class`);
}

