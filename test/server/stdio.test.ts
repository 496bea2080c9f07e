import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runStdio } from '../../src/server/stdio.js';
import { FakeCall } from '../../src/testing/fake-asterisk.js';
import { spawnNode, type TestChild } from '../support/child.js';
import { quiet } from '../support/fake-server.js';
import { until, WAIT_MS, within } from '../support/settle.js';

const script = fileURLToPath(new URL('../fixtures/stdio-app.js', import.meta.url));

/**
 * Starts the fixture as Asterisk would (`AGI(/path/script.js,mode)`), killed when the test ends, and
 * wraps its pipes in a FakeCall.
 */
function startScript(t: TestContext, mode: string): TestChild & { call: FakeCall } {
  const started = spawnNode(t, [script, mode]);
  const child = started.child;
  // The FakeCall reads what the script writes (stdout) and writes what the script reads (stdin).
  const duplex = new PassThrough();
  const toScript = new PassThrough();
  toScript.pipe(child.stdin);
  child.stdout.on('data', (c: Buffer) => duplex.push(c));
  child.stdout.on('end', () => duplex.push(null));
  duplex.write = ((chunk: Buffer | string, ...rest: unknown[]) => toScript.write(chunk, ...(rest as []))) as typeof duplex.write;
  duplex.end = (() => {
    toScript.end();
    return duplex;
  }) as typeof duplex.end;
  const call = new FakeCall(duplex);
  call.sendHeader({ network: false, args: [mode] });
  return { ...started, call };
}

describe('runStdio (AGI scripts over stdin/stdout)', () => {
  it('runs the handler over stdin/stdout, keeps console output off the protocol, and exits 0', async (t) => {
    const { call, stderr, exit } = startScript(t, 'normal');
    call.respond((cmd) => {
      if (cmd.words[0] === 'GET') return '200 result=1 (1001)';
      if (cmd.words[0] === 'WAIT') return '200 result=55';
      return '200 result=1';
    });
    assert.equal(await exit('did not exit after the call'), 0);
    assert.deepEqual(
      call.commands.map((c) => c.words),
      [
        ['GET', 'VARIABLE', 'CALLERID(num)'],
        ['WAIT', 'FOR', 'DIGIT', '5000'],
        ['SET', 'VARIABLE', 'RESULT', '1001:7'],
        ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS'],
      ],
      'stdout carried AGI commands only',
    );
    assert.match(stderr(), /console\.log noise/);
    assert.match(stderr(), /raw stdout noise/);
  });

  it('treats SIGHUP as a hangup: the pending command fails, onHangup runs, the script exits 0', async (t) => {
    const { child, call, stderr, exit } = startScript(t, 'wait');
    const wait = await call.nextCommand();
    assert.deepEqual(wait.words, ['WAIT', 'FOR', 'DIGIT', '-1']);
    child.kill('SIGHUP');
    // Wait until the script has seen the signal (it logs the hangup), then end the running command
    // with -1 as Asterisk does.
    await until(() => stderr().includes('call hung up'), 'the script did not log the hangup after SIGHUP');
    call.reply('200 result=-1');
    const cleanup = await call.nextCommand();
    assert.deepEqual(cleanup.words, ['SET', 'VARIABLE', 'CLEANUP', 'hangup-line']);
    call.reply('200 result=1');
    const status = await call.nextCommand();
    assert.deepEqual(status.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'HANGUP']);
    call.reply('200 result=1');
    assert.equal(await exit('did not exit after the hangup'), 0);
  });

  it('a failing handler sets FAILURE and exits 1 (so AGISTATUS is FAILURE too)', async (t) => {
    const { call, stderr, exit } = startScript(t, 'throw');
    call.respond(() => '200 result=1');
    assert.equal(await exit('did not exit after the handler failed'), 1);
    assert.deepEqual(call.commands.map((c) => c.words), [['SET', 'VARIABLE', 'AGIKIT_STATUS', 'FAILURE']]);
    assert.match(stderr(), /deliberate failure/);
  });

  it('a script started without an AGI header on stdin exits 1 with a log line', async (t) => {
    const started = spawnNode(t, [script, 'normal']);
    started.child.stdin.end('this is not AGI\n');
    assert.equal(await started.exit('did not exit without a header'), 1);
    assert.equal(started.stdout(), '');
    assert.match(started.stderr(), /no valid AGI header/);
  });

  it('runs over injected streams without exiting the process', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const call = new FakeCall(new PassThrough());
    let written = '';
    output.on('data', (c: Buffer) => (written += c.toString()));
    const status = runStdio(
      async (agi) => {
        await agi.answer();
      },
      { input, output, exit: false, logger: quiet },
    );
    input.write(`${['agi_request: /x.js', 'agi_channel: Local/1@c;1', 'agi_uniqueid: 9.9'].join('\n')}\n\n`);
    await new Promise((r) => setImmediate(r));
    assert.equal(written, 'ANSWER\n');
    input.write('200 result=0\n');
    await new Promise((r) => setImmediate(r));
    input.write('200 result=1\n');
    assert.equal(await within(status, WAIT_MS, 'runStdio did not finish once the status write was answered'), 'SUCCESS');
    assert.equal(written, 'ANSWER\nSET VARIABLE "AGIKIT_STATUS" "SUCCESS"\n');
    call.destroy();
  });
});
