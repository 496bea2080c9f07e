import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseTypeScriptLoader } from '../../src/cli/load-app.js';
import { FakeCall } from '../../src/testing/fake-asterisk.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
// The TypeScript source itself, not its compiled copy in dist/.
const typedApp = fileURLToPath(new URL('../../../test/cli/fixtures/typed-app.ts', import.meta.url));

/** Waits for `promise` at most `ms`, failing with what was awaited. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('agikit serve app.ts', () => {
  it('serves a TypeScript module as it is (through tsx on this Node)', async () => {
    const child = spawn(process.execPath, [bin, 'serve', typedApp, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    try {
      const port = await within(
        new Promise<number>((resolve, reject) => {
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            const m = /"port":(\d+),"msg":"agikit serving/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          child.once('exit', (code) => reject(new Error(`agikit serve exited ${code}: ${err}`)));
        }),
        20_000,
        'agikit serve to listen',
      );
      const call = await FakeCall.connect(port, { script: 'typed' });
      call.respond((cmd) => (cmd.words[0] === 'STREAM' ? '200 result=35 endpos=800' : cmd.words[0] === 'ANSWER' ? '200 result=0' : '200 result=1'));
      await within(call.closed, 10_000, 'the typed app to finish its call');
      assert.deepEqual(
        call.commands.map((c) => c.words.join(' ')),
        ['ANSWER', 'STREAM FILE hello-world #', 'SET VARIABLE TYPED_DIGIT #', 'SET VARIABLE AGIKIT_STATUS SUCCESS'],
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('picks Node’s own type stripping, then tsx, else a one-line hint', () => {
    assert.deepEqual(chooseTypeScriptLoader({ nodeStripsTypes: true, tsxPath: '/x/tsx.cjs', nodeVersion: 'v23.6.0' }), { kind: 'node' });
    assert.deepEqual(chooseTypeScriptLoader({ nodeStripsTypes: false, tsxPath: '/x/tsx.cjs', nodeVersion: 'v20.20.2' }), { kind: 'tsx', path: '/x/tsx.cjs' });
    const none = chooseTypeScriptLoader({ nodeStripsTypes: false, tsxPath: undefined, nodeVersion: 'v20.20.2' });
    assert.equal(none.kind, 'none');
    assert.ok(none.kind === 'none');
    assert.equal(
      none.hint,
      'Node v20.20.2 cannot load TypeScript by itself: install tsx (npm i -D tsx), use Node 22.18+, or compile with tsc and serve the .js',
    );
    assert.doesNotMatch(none.hint, /\n/);
  });
});
