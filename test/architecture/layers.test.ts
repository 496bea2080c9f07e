/**
 * Layers point down: `protocol <- agi <- media <- relay`, `protocol <- ami <- relay`, the server a
 * transport that knows only `Agi`, `cli` and `testing` on top, nothing importing `relay`. The rules
 * are the table in ./layers.ts; this test walks the import graph of `src/` against it, and shows the
 * checker catching violations on a planted graph and on fixture files.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { checkLayers, LAYER_RULES, readImportGraph, type Import, type ImportGraph } from './layers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** A graph from `file: [imported files or packages]` (a name with no `.ts` is a package). */
function graph(edges: Record<string, string[]>): ImportGraph {
  const files = new Map<string, Import[]>();
  for (const [file, targets] of Object.entries(edges)) {
    files.set(
      file,
      targets.map((t) => (t.endsWith('.ts') ? { specifier: t, file: t } : { specifier: t, pkg: t })),
    );
  }
  return files;
}

describe('layers', () => {
  it('src/ keeps every rule of the layer table', () => {
    const src = readImportGraph(`${root}src`);
    assert.ok(src.size > 40, `read ${src.size} files`);
    assert.ok(src.get('agi/agi.ts')?.some((i) => i.file === 'protocol/encode.ts'), 'the reader sees agi -> protocol');
    assert.deepEqual(checkLayers(src), []);
  });

  it('the optional redis package is imported in one file only, and only with import() (it may be missing)', () => {
    const src = readImportGraph(`${root}src`);
    const importers = [...src].filter(([, imports]) => imports.some((i) => i.pkg === 'redis')).map(([file]) => file);
    assert.deepEqual(importers, ['relay/transports/redis-streams.ts']);
    const text = readFileSync(`${root}src/relay/transports/redis-streams.ts`, 'utf8');
    assert.doesNotMatch(text, /^\s*import\b[^(]*from\s+['"]redis['"]/m, 'no static import of redis');
    assert.match(text, /await import\('redis'\)/);
  });

  it('the table itself: nothing but the package entry and the CLI on top imports relay, agi and ami sit on protocol only', () => {
    for (const [layer, allowed] of Object.entries(LAYER_RULES)) {
      if (layer !== 'index' && layer !== 'cli') assert.ok(!allowed.includes('relay'), `${layer} may import relay`);
      assert.ok(!allowed.includes('index'), `${layer} may import the package entry`);
    }
    assert.deepEqual([...(LAYER_RULES['agi'] ?? [])].sort(), ['errors', 'protocol']);
    assert.deepEqual([...(LAYER_RULES['ami'] ?? [])].sort(), ['errors', 'protocol']);
    assert.deepEqual([...(LAYER_RULES['server'] ?? [])].sort(), ['agi', 'errors', 'protocol']);
  });

  it('a planted graph: each upward import is reported, once, with the rule it breaks', () => {
    const planted = graph({
      'errors.ts': ['protocol/reply.ts'],
      'protocol/reply.ts': ['errors.ts'],
      'agi/agi.ts': ['protocol/reply.ts', 'media/file-player.ts', 'pino'],
      'media/file-player.ts': ['agi/agi.ts', 'ami/client.ts', 'node:fs'],
      'ami/client.ts': ['errors.ts', 'media/file-player.ts'],
      'server/run-call.ts': ['agi/agi.ts', 'media/file-player.ts'],
      'relay/call.ts': ['server/run-call.ts', 'media/file-player.ts', 'ami/client.ts'],
      'cli/main.ts': ['relay/call.ts', 'commander'],
      'testing/harness.ts': ['relay/call.ts'],
      'testing/asterisk.ts': ['index.ts', 'testcontainers', 'left-pad'],
      'index.ts': ['relay/call.ts', 'cli/main.ts'],
      'web/app.ts': [],
    });
    assert.deepEqual(checkLayers(planted), [
      'agi/agi.ts imports media/file-player.ts: agi may import only protocol, errors (not media)',
      'ami/client.ts imports media/file-player.ts: ami may import only protocol, errors (not media)',
      'server/run-call.ts imports media/file-player.ts: server may import only agi, protocol, errors (not media)',
      'testing/harness.ts imports relay/call.ts: testing may import only server, media, agi, ami, protocol, errors (not relay)',
      'testing/asterisk.ts imports index.ts: testing may import only server, media, agi, ami, protocol, errors (not index)',
      "testing/asterisk.ts imports package 'left-pad', which is not in the package table",
      'index.ts imports cli/main.ts: index may import only relay, server, media, agi, ami, protocol, errors (not cli)',
      "web/app.ts: layer 'web' is not in the layer table; add it with what it may import",
    ]);
  });

  it('a planted graph: imports of files that do not exist, or outside the tree, are reported', () => {
    const planted = graph({ 'agi/agi.ts': ['agi/gone.ts', '../package.ts'] });
    assert.deepEqual(checkLayers(planted), [
      'agi/agi.ts imports agi/gone.ts, which is no source file (agi/gone.ts)',
      'agi/agi.ts imports ../package.ts, outside the source tree',
    ]);
  });

  it('fixture files: a multi-line type import, a re-export and a dynamic import that break the rules', () => {
    const fixture = readImportGraph(`${root}test/fixtures/layers`);
    assert.deepEqual(checkLayers(fixture), [
      'agi/session.ts imports media/player.ts: agi may import only protocol, errors (not media)',
      "protocol/wire.ts imports package 'commander': only cli may",
      'server/serve.ts imports relay/call.ts: server may import only agi, protocol, errors (not relay)',
    ]);
  });

  it("one home for the media layer's errors: src/media/errors.ts declares every error class of src/media", () => {
    const declaring = readdirSync(`${root}src/media`)
      .filter((f) => f.endsWith('.ts') && /\bclass \w+ extends \w*Error\b/.test(readFileSync(`${root}src/media/${f}`, 'utf8')));
    assert.deepEqual(declaring, ['errors.ts']);
  });
});
