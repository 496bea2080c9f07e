import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeCall } from '../../src/testing/fake-asterisk.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
const example = fileURLToPath(new URL('../../examples/hello.js', import.meta.url));

/** Runs `agikit …` and resolves once it logged its listening port. */
function startServe(args: string[]) {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const port = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"port":(\d+),"msg":"agikit serving/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, port, exit, output: () => out, errors: () => err };
}

describe('agikit serve', () => {
  it('serves the example app over FastAGI and drains on SIGTERM, exiting 0', async () => {
    const serve = startServe([example, '--port', '0', '--log-level', 'info']);
    const port = await serve.port;
    const call = await FakeCall.connect(port, { script: 'hello', args: ['x'] });
    const ans = await call.nextCommand();
    assert.deepEqual(ans.words, ['ANSWER']);
    // A call is in progress when SIGTERM arrives: the server must let it finish.
    serve.child.kill('SIGTERM');
    call.reply('200 result=0');
    call.respond((cmd) => {
      switch (cmd.words[0]) {
        case 'STREAM':
          return '200 result=0 endpos=100';
        case 'GET':
          return '200 result=42';
        case 'SAY':
          return '200 result=0';
        case 'DATABASE':
          return '200 result=1';
        default:
          return '200 result=1';
      }
    });
    await call.closed;
    assert.equal(await serve.exit, 0);
    assert.deepEqual(
      call.commands.map((c) => c.words[0] + ' ' + (c.words[1] ?? '')),
      ['ANSWER ', 'STREAM FILE', 'GET DATA', 'SAY DIGITS', 'DATABASE PUT', 'SET VARIABLE', 'STREAM FILE', 'SET VARIABLE'],
    );
    assert.deepEqual(call.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS']);
    assert.match(serve.output(), /draining calls before exit/);
  });

  it('--no-status-variable leaves AGIKIT_STATUS alone; an unknown route is NOTFOUND otherwise', async () => {
    const quietServe = startServe([example, '--port', '0', '--no-status-variable']);
    const call = await FakeCall.connect(await quietServe.port, { script: 'nowhere' });
    await call.closed;
    assert.deepEqual(call.commands, []);
    quietServe.child.kill('SIGINT');
    assert.equal(await quietServe.exit, 0);
  });

  it('fails with one clear line for a module without a handler', async () => {
    const serve = startServe([fileURLToPath(new URL('../fixtures/not-an-app.js', import.meta.url)), '--port', '0']);
    await assert.rejects(serve.port);
    assert.equal(await serve.exit, 1);
    assert.match(serve.errors(), /^agikit: .*must export default a handler function/m);
    assert.equal(serve.errors().trim().split('\n').length, 1);
  });

  it('--help shows examples', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
    assert.match(out, /Examples:/);
    assert.match(out, /--no-status-variable/);
  });
});
