/**
 * The layer rules of agikit's `src/` as data, and a checker that walks the import graph against
 * them. Used by layers.test.ts; not a test file itself.
 *
 * A file's layer is its first directory under `src/` (`src/agi/agi.ts` is `agi`), or its name for
 * the files at the root (`src/errors.ts` is `errors`, `src/index.ts` is `index`). Imports inside a
 * layer are free. Every import counts, `import type` included: a type is a dependency too.
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/** What each layer may import besides itself. Lower layers first. */
export const LAYER_RULES: Readonly<Record<string, readonly string[]>> = {
  // The error home of protocol and agi (it names a protocol type in AgiCommandError).
  errors: ['protocol'],
  protocol: ['errors'],
  agi: ['protocol', 'errors'],
  ami: ['protocol', 'errors'],
  // The media facades drive an Agi and, to stop a recording, an AmiClient handed to them.
  media: ['agi', 'ami', 'protocol', 'errors'],
  // A transport: it knows Agi and routers, never what runs on a call (media, relay).
  server: ['agi', 'protocol', 'errors'],
  // Relay's Consumer runs a FastAGI server; its Call drives Agi, media and AMI.
  relay: ['server', 'media', 'agi', 'ami', 'protocol', 'errors'],
  // On top. Only the CLI (it serves Consumer modules) and the package entry import relay.
  testing: ['server', 'media', 'agi', 'ami', 'protocol', 'errors'],
  cli: ['relay', 'testing', 'server', 'media', 'agi', 'ami', 'protocol', 'errors'],
  // The package entry ('agikit') re-exports every library layer, relay included, but neither the
  // CLI (a program) nor the testing kit (its own entry, 'agikit/testing'). No layer imports it.
  index: ['relay', 'server', 'media', 'agi', 'ami', 'protocol', 'errors'],
};

/** Third-party packages and the layers that may import them (Node's built-ins are free everywhere). */
export const PACKAGE_RULES: Readonly<Record<string, readonly string[]>> = {
  pino: ['agi', 'ami', 'media', 'server', 'relay', 'testing', 'cli'],
  commander: ['cli'],
  // The operations endpoint of `agikit serve` (loaded only with --metrics-port).
  'prom-client': ['cli'],
  testcontainers: ['testing'],
  // The Redis task transport's client: an optional peer, loaded with import() in one file (see layers.test.ts).
  redis: ['relay'],
  // The WebSocket client of Relay ws taps on Node 20 (an optional peer, loaded only for them).
  ws: ['relay'],
};

/** One import of a file: a path relative to the source root (`media/audio.ts`) or a package name. */
export interface Import {
  readonly specifier: string;
  /** The imported file relative to the root, or `undefined` for a package. */
  readonly file?: string;
  /** The package name (`pino`, `node:fs`), or `undefined` for a file. */
  readonly pkg?: string;
}

/** Every `.ts` file under `root` (relative, `/`-separated) with what it imports. */
export type ImportGraph = ReadonlyMap<string, readonly Import[]>;

/** The layer of a file relative to the source root. */
export function layerOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file.replace(/\.ts$/, '') : file.slice(0, slash);
}

/**
 * Reads the import graph of the `.ts` files under `root`: static imports and re-exports (type-only
 * ones included) and dynamic `import('literal')`. Relative specifiers are resolved to the `.ts`
 * file they name (`./x.js` → `x.ts`).
 */
export function readImportGraph(root: string): ImportGraph {
  const graph = new Map<string, Import[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const imports = ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }): Import => {
      if (!fileName.startsWith('.')) return { specifier: fileName, pkg: packageName(fileName) };
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName)).replace(/\.js$/, '.ts');
      return { specifier: fileName, file: target };
    });
    graph.set(file, imports);
  }
  return graph;
}

/** Each import that breaks a rule, as one line saying which and why (empty when the graph is clean). */
export function checkLayers(
  graph: ImportGraph,
  layers: Readonly<Record<string, readonly string[]>> = LAYER_RULES,
  packages: Readonly<Record<string, readonly string[]>> = PACKAGE_RULES,
): string[] {
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    const allowed = layers[from];
    if (!allowed) {
      problems.push(`${file}: layer '${from}' is not in the layer table; add it with what it may import`);
      continue;
    }
    for (const imp of imports) {
      if (imp.pkg !== undefined) {
        if (imp.pkg.startsWith('node:') || isBuiltin(imp.pkg)) continue;
        const users = packages[imp.pkg];
        if (!users) problems.push(`${file} imports package '${imp.pkg}', which is not in the package table`);
        else if (!users.includes(from)) problems.push(`${file} imports package '${imp.pkg}': only ${users.join(', ')} may`);
        continue;
      }
      const target = imp.file ?? '';
      if (target.startsWith('../')) {
        problems.push(`${file} imports ${imp.specifier}, outside the source tree`);
        continue;
      }
      if (!graph.has(target)) {
        problems.push(`${file} imports ${imp.specifier}, which is no source file (${target})`);
        continue;
      }
      const to = layerOf(target);
      if (to !== from && !allowed.includes(to)) {
        problems.push(`${file} imports ${target}: ${from} may import only ${allowed.join(', ') || 'nothing'} (not ${to})`);
      }
    }
  }
  return problems;
}

/** `pino` for `pino`, `@scope/pkg` for `@scope/pkg/sub`, `node:fs` as it is. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function sourceFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, dir)).sort()) {
    const rel = dir ? `${dir}/${name}` : name;
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...sourceFiles(root, rel));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}
