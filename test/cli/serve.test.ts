import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeCall } from '../../src/testing/fake-asterisk.js';
import { spawnNode } from '../support/child.js';
import { closed } from '../support/fake-server.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
const example = fileURLToPath(new URL('../../examples/hello.js', import.meta.url));

/** Runs `agikit serve …` (killed when the test ends); `port()` resolves once it logged its listening port. */
function startServe(t: TestContext, args: string[]) {
  const serve = spawnNode(t, [bin, 'serve', ...args]);
  return { ...serve, port: async () => Number((await serve.waitFor(/"port":(\d+),"msg":"agikit serving/))[1]) };
}

describe('agikit serve', () => {
  it('serves the example app over FastAGI and drains on SIGTERM, exiting 0', async (t) => {
    const serve = startServe(t, [example, '--port', '0', '--log-level', 'info']);
    const port = await serve.port();
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
    await closed(call, 'the call in progress at SIGTERM did not run to its end');
    assert.equal(await serve.exit('did not exit after draining'), 0);
    assert.deepEqual(
      call.commands.map((c) => c.words[0] + ' ' + (c.words[1] ?? '')),
      ['ANSWER ', 'STREAM FILE', 'GET DATA', 'SAY DIGITS', 'DATABASE PUT', 'SET VARIABLE', 'STREAM FILE', 'SET VARIABLE'],
    );
    assert.deepEqual(call.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS']);
    assert.match(serve.stdout(), /draining calls before exit/);
  });

  it('--no-status-variable leaves AGIKIT_STATUS alone; an unknown route is NOTFOUND otherwise', async (t) => {
    const quietServe = startServe(t, [example, '--port', '0', '--no-status-variable']);
    const call = await FakeCall.connect(await quietServe.port(), { script: 'nowhere' });
    await closed(call, 'the call to an unknown route was not ended');
    assert.deepEqual(call.commands, []);
    quietServe.child.kill('SIGINT');
    assert.equal(await quietServe.exit('did not exit after SIGINT'), 0);
  });

  it('fails with one clear line for a module without a handler', async (t) => {
    const serve = startServe(t, [fileURLToPath(new URL('../fixtures/not-an-app.js', import.meta.url)), '--port', '0']);
    assert.equal(await serve.exit('did not exit for a module without a handler'), 1);
    assert.equal(serve.stdout(), '', 'it never started serving');
    assert.match(serve.stderr(), /^agikit: .*must export default a handler function/m);
    assert.equal(serve.stderr().trim().split('\n').length, 1);
  });

  it('--help shows examples', async (t) => {
    const help = spawnNode(t, [bin, 'serve', '--help']);
    assert.equal(await help.exit('did not exit after printing its help'), 0);
    assert.match(help.stdout(), /Examples:/);
    assert.match(help.stdout(), /--no-status-variable/);
  });
});
