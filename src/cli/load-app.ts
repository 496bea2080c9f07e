import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isRouterLike, type AgiHandler, type RouterLike } from '../server/router.js';

/** What an application module exports as default: one handler for every call, or a router. */
export type AppExport = AgiHandler | RouterLike;

/**
 * Imports an application module (a path relative to the working directory) and returns its default
 * export, which must be a handler function or a `Router`. Throws an Error with a one-line message
 * otherwise.
 */
export async function loadApp(modulePath: string): Promise<AppExport> {
  const app = (await loadModule(modulePath)).default;
  if (typeof app === 'function') return app as AgiHandler;
  if (isRouterLike(app)) return app;
  throw new Error(`${modulePath} must export default a handler function (agi) => … or a Router`);
}

/** Imports a module (a path relative to the working directory); a failure is one line. Imports are cached. */
export async function loadModule(modulePath: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot load ${modulePath}: ${message}`);
  }
}
