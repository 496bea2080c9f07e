import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseTypeScriptLoader } from '../../src/cli/load-app.js';
import { mediaFromFlags, parseAmiUrl } from '../../src/cli/consumer-flags.js';
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

describe('agikit serve and simulate with a Relay Consumer class', () => {
  const consumer = fileURLToPath(new URL('../../../test/cli/fixtures/office-consumer.ts', import.meta.url));

  it('serve runs it: ready(), a call on /relay/office, SIGTERM during the call drains it, then teardown(), exit 0', async () => {
    const child = spawn(process.execPath, [bin, 'serve', consumer, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await within(
        new Promise<number>((resolve, reject) => {
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            const m = /"port":(\d+),"msg":"relay consumer serving office/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          child.once('exit', (code) => reject(new Error(`agikit serve exited ${code}: ${err}`)));
        }),
        20_000,
        'the consumer to listen',
      );
      const call = await FakeCall.connect(port, { script: 'relay/office' });
      await call.expectCommand('CHANNEL STATUS');
      call.reply('200 result=4');
      await call.expectCommand('ANSWER');
      // SIGTERM while the call is in progress: the consumer lets it finish before teardown().
      child.kill('SIGTERM');
      await within(
        (async () => {
          while (!out.includes('draining calls')) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
        10_000,
        'the consumer to start draining',
      );
      assert.doesNotMatch(err, /teardown/, 'teardown() waits for the call');
      call.respond((cmd) => (cmd.words[0] === 'ANSWER' ? '200 result=0' : '200 result=1'));
      call.reply('200 result=0');
      await within(call.closed, 10_000, 'the consumer to finish its call');
      assert.deepEqual(
        call.commands.map((c) => c.words.join(' ')),
        ['CHANNEL STATUS', 'ANSWER', 'SET VARIABLE RELAY_CONTEXT_SEEN office/answered', 'SET VARIABLE AGIKIT_STATUS SUCCESS'],
      );
      assert.equal(await within(exit, 10_000, 'agikit serve to exit after SIGTERM'), 0);
      assert.match(err, /office consumer ready\n/);
      assert.match(err, /office consumer teardown\n/);
      assert.ok(err.indexOf('ready') < err.indexOf('teardown'));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('simulate drives it with no Asterisk (the AGI-only subset)', async () => {
    const child = spawn(process.execPath, [bin, 'simulate', consumer, '--route', '/relay/office'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await within(new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))), 20_000, 'agikit simulate to finish');
    assert.equal(code, 0, out);
    assert.match(out, /SET VARIABLE "RELAY_CONTEXT_SEEN" "office\/answered"/);
    assert.match(out, /status: SUCCESS/);
  });
});

describe('--ami and --media-dir', () => {
  it('reads ami://user:secret@host:port, with 5038 as the default port', () => {
    assert.deepEqual(parseAmiUrl('ami://agikit:s%3Acret@127.0.0.1:15038'), { host: '127.0.0.1', port: 15038, username: 'agikit', secret: 's:cret' });
    assert.deepEqual(parseAmiUrl('agikit:x@localhost'), { host: 'localhost', port: 5038, username: 'agikit', secret: 'x' });
    assert.throws(() => parseAmiUrl('http://a:b@host'), /bad --ami "http:\/\/a:b@host": expected ami:\/\/user:secret@host:port/);
    assert.throws(() => parseAmiUrl('ami://host:5038'), /expected ami:\/\/user:secret@host:port/);
  });

  it('a media directory gets espeak-ng speech in <dir>/tts, mapped for Asterisk', () => {
    const media = mediaFromFlags('/srv/media', '/media');
    assert.deepEqual(media?.directory, { local: '/srv/media', asterisk: '/media' });
    assert.ok(media?.tts);
    assert.equal(mediaFromFlags(undefined, undefined), undefined);
    assert.throws(() => mediaFromFlags(undefined, '/media'), /--asterisk-media-dir needs --media-dir/);
  });
});
