import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderDocs, renderMethods } from '../../scripts/gen-commands.js';

const root = new URL('../../../', import.meta.url);

describe('generated from the command table', () => {
  it('src/agi/methods.generated.ts is up to date (run: npm run build && node dist/scripts/gen-commands.js)', () => {
    assert.equal(readFileSync(new URL('src/agi/methods.generated.ts', root), 'utf8'), renderMethods());
  });

  it('docs/commands.md is up to date', () => {
    assert.equal(readFileSync(new URL('docs/commands.md', root), 'utf8'), renderDocs());
  });
});
