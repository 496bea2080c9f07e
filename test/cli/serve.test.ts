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

  it('--workers 2: two processes serve calls on one port, and SIGTERM drains every one before exit 0', async (t) => {
    const serve = spawnNode(t, [bin, 'serve', example, '--port', '0', '--workers', '2']);
    const port = Number((await serve.waitFor(/"port":(\d+),"workers":2,"msg":"agikit serving/))[1]);
    // The primary hands connections out in turn: four calls reach both workers.
    const calls = await Promise.all([1, 2, 3, 4].map((n) => FakeCall.connect(port, { script: 'hello', args: [String(n)] })));
    for (const call of calls) {
      assert.deepEqual((await call.nextCommand()).words, ['ANSWER']);
      call.reply('200 result=0');
    }
    for (const call of calls) assert.deepEqual((await call.nextCommand()).words.slice(0, 2), ['STREAM', 'FILE']);
    // Each call logs "new call" after ANSWER, with the id of the worker serving it.
    await serve.waitFor(/("worker":\d+.*"msg":"new call"[^]*){4}/);
    const servedBy = new Set([...serve.stdout().matchAll(/"worker":(\d+)[^\n]*"msg":"new call"/g)].map((m) => m[1]));
    assert.equal(servedBy.size, 2, `calls served by workers ${[...servedBy].join(', ')}`);
    // Calls are in progress when SIGTERM arrives: every worker lets its own finish.
    serve.child.kill('SIGTERM');
    await serve.waitFor(/draining calls in every worker/);
    for (const call of calls) {
      call.respond((cmd) => (cmd.words[0] === 'STREAM' ? '200 result=0 endpos=100' : cmd.words[0] === 'GET' ? '200 result=42' : '200 result=1'));
      call.reply('200 result=0 endpos=100');
    }
    for (const call of calls) await closed(call, 'a call in progress at SIGTERM did not run to its end');
    assert.equal(await serve.exit('did not exit after every worker drained'), 0);
    for (const call of calls) assert.deepEqual(call.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS']);
    assert.equal(serve.stdout().match(/"worker":\d+[^\n]*"msg":"draining calls before exit"/g)?.length, 2, 'each worker drained');
  });

  it('--workers 2 --metrics-port: the primary serves the metrics of every worker, summed', async (t) => {
    const serve = spawnNode(t, [bin, 'serve', example, '--port', '0', '--workers', '2', '--metrics-port', '0']);
    const metricsPort = Number((await serve.waitFor(/"port":(\d+),"msg":"operations endpoint listening/))[1]);
    const port = Number((await serve.waitFor(/"port":(\d+),"workers":2,"msg":"agikit serving/))[1]);
    const calls = await Promise.all([1, 2, 3, 4].map((n) => FakeCall.connect(port, { script: 'hello', args: [String(n)] })));
    const replies: Record<string, string> = { ANSWER: '200 result=0', STREAM: '200 result=0 endpos=100', GET: '200 result=42', SAY: '200 result=0' };
    for (const call of calls) call.respond((cmd) => replies[cmd.words[0] ?? ''] ?? '200 result=1');
    for (const call of calls) await closed(call, 'a call did not run to its end');
    await serve.waitFor(/("worker":\d+.*"msg":"new call"[^]*){4}/);
    const servedBy = new Set([...serve.stdout().matchAll(/"worker":(\d+)[^\n]*"msg":"new call"/g)].map((m) => m[1]));
    assert.equal(servedBy.size, 2, 'both workers served calls');
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /^agikit_calls_ended_total\{status="SUCCESS"\} 4$/m, text.split('\n').filter((l) => l.startsWith('agikit_')).join('\n'));
    assert.match(text, /^agikit_command_round_trip_seconds_count\{command="ANSWER"\} 4$/m);
    const health = await fetch(`http://127.0.0.1:${metricsPort}/health`);
    assert.deepEqual(await health.json(), { status: 'ok', workers: 2 });
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit('did not exit after SIGTERM'), 0);
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
