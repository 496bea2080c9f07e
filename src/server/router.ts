import type { Agi } from '../agi/agi.js';

/** An AGI application: runs one call. The session ends when the returned promise settles. */
export type AgiHandler = (agi: Agi) => Promise<void> | void;

/** What {@link Router.match} found for a script path. */
export interface RouteMatch {
  handler: AgiHandler;
  /** Values of the pattern's `:name` segments (URL-decoded), and `*` for a trailing wildcard. */
  params: Record<string, string>;
  /** The pattern that matched (`'*'` for the fallback). */
  pattern: string;
}

interface Route {
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: AgiHandler;
}

/**
 * Routes a call to a handler by its FastAGI script path (`agi://host/ivr/acme?x=1` has path
 * `/ivr/acme`). Patterns are matched in the order they were added:
 * - `/ivr/main`: exact (a trailing slash is ignored);
 * - `/ivr/:tenant`: `:name` matches one path segment, available as `agi.params.tenant`;
 * - `/files/*`: a trailing `*` matches the rest of the path, available as `agi.params['*']`.
 * A call no route matches goes to the {@link fallback} handler, or ends with status `NOTFOUND`.
 */
export class Router {
  private readonly routes: Route[] = [];
  private fallbackHandler: AgiHandler | undefined;

  /** Adds a route; returns the router for chaining. */
  route(pattern: string, handler: AgiHandler): this {
    this.routes.push({ ...compile(pattern), pattern, handler });
    return this;
  }

  /** Sets the handler for calls no route matches. */
  fallback(handler: AgiHandler): this {
    this.fallbackHandler = handler;
    return this;
  }

  /** Finds the handler for a script path, or `undefined` if none (and no fallback). */
  match(path: string): RouteMatch | undefined {
    const normalised = normalise(path);
    for (const route of this.routes) {
      const m = route.regex.exec(normalised);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = decode(m[i + 1] ?? '');
      });
      return { handler: route.handler, params, pattern: route.pattern };
    }
    if (this.fallbackHandler) return { handler: this.fallbackHandler, params: {}, pattern: '*' };
    return undefined;
  }

  /** The patterns added so far, in matching order. */
  get patterns(): string[] {
    return this.routes.map((r) => r.pattern);
  }
}

/** Anything with a `match` like {@link Router}'s (so a module's router from another copy of agikit works). */
export interface RouterLike {
  match(path: string): RouteMatch | undefined;
}

/** `true` for a {@link Router} or an object that routes like one. */
export function isRouterLike(value: unknown): value is RouterLike {
  return typeof value === 'object' && value !== null && typeof (value as RouterLike).match === 'function';
}

function normalise(path: string): string {
  let p = path.startsWith('/') ? path : `/${path}`;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

function compile(pattern: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const segments = normalise(pattern).split('/').slice(1);
  let source = '';
  segments.forEach((segment, i) => {
    if (segment === '*' && i === segments.length - 1) {
      names.push('*');
      source += '(?:/(.*))?';
    } else if (segment.startsWith(':') && segment.length > 1) {
      names.push(segment.slice(1));
      source += '/([^/]+)';
    } else if (segment !== '') {
      source += `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    }
  });
  return { regex: new RegExp(`^${source || '/'}$`), names };
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
