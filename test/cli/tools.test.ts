import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Transcript } from '../../src/agi/transcript.js';
import { FakeCall } from '../../src/testing/fake-asterisk.js';
import { spawnNode } from '../support/child.js';
import { closed } from '../support/fake-server.js';
import { until } from '../support/settle.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
const example = fileURLToPath(new URL('../../examples/hello.js', import.meta.url));
const failing = fileURLToPath(new URL('../fixtures/failing-app.js', import.meta.url));

/** Runs `agikit …` to completion. */
async function run(t: TestContext, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const agikit = spawnNode(t, [bin, ...args]);
  agikit.child.stdin.end();
  const code = await agikit.exit('did not finish');
  return { code, out: agikit.stdout(), err: agikit.stderr() };
}

/** Starts a long-running `agikit …` (killed when the test ends) and gives access to its output as it comes. */
function start(t: TestContext, args: string[]) {
  const agikit = spawnNode(t, [bin, ...args]);
  return { ...agikit, type: (line: string) => agikit.child.stdin.write(`${line}\n`) };
}

/** A new temporary directory, removed when the test ends. */
function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('agikit simulate', () => {
  it('runs the example app with a DTMF script, prints the call as it goes, exits 0', async (t) => {
    const dir = tempDir(t, 'agikit-sim-');
    const file = join(dir, 'call.json');
    const r = await run(t, ['simulate', example, '--route', '/hello', '--dtmf', '1,2,3,#', '--env', 'callerid=5551234', '--transcript', file]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^>> ANSWER\n<< 200 result=0\n/);
    assert.match(r.out, />> GET DATA "beep" "6000" "4"\n<< 200 result=123\n/);
    assert.match(r.out, />> SAY DIGITS "123" ""/);
    assert.match(r.out, /status: SUCCESS/);
    const transcript = JSON.parse(readFileSync(file, 'utf8')) as Transcript;
    assert.equal(transcript.header.agi_callerid, '5551234');
    assert.equal(transcript.meta?.app, example);
    assert.equal(transcript.exchanges.length, 8);
  });

  it('--hangup-after N hangs up at the Nth command with the HANGUP line', async (t) => {
    const r = await run(t, ['simulate', example, '--route', '/hello', '--hangup-after', '2']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, />> STREAM FILE "hello-world" "#"\n<< 200 result=-1 endpos=0\n<< HANGUP\n/);
    assert.match(r.out, /status: HANGUP/);
  });

  it('exits non-zero with one clear line when the app fails, or no route matches', async (t) => {
    const broken = await run(t, ['simulate', failing, '--route', '/broken']);
    assert.equal(broken.code, 1);
    assert.match(broken.out, /status: FAILURE/);
    assert.match(broken.err, /^agikit: the app failed: Error: the database is down$/m);
    const lost = await run(t, ['simulate', example, '--route', '/nowhere']);
    assert.equal(lost.code, 1);
    assert.match(lost.err, /no route for \/nowhere/);
  });

  it('--tcp runs through a real FastAGI server with the same call', async (t) => {
    const r = await run(t, ['simulate', example, '--route', '/hello', '--dtmf', '9#', '--tcp']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /<< 200 result=9\n/);
  });
});

describe('agikit replay', () => {
  it('replays a transcript OK, and reports the first difference when the recording no longer matches', async (t) => {
    const dir = tempDir(t, 'agikit-replay-');
    const file = join(dir, 'call.json');
    assert.equal((await run(t, ['simulate', example, '--route', '/hello', '--dtmf', '42#', '--transcript', file])).code, 0);
    const ok = await run(t, ['replay', file, '--quiet']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /replay OK: the app sent the 8 recorded commands/);
    const transcript = JSON.parse(readFileSync(file, 'utf8')) as Transcript;
    transcript.exchanges[2] = { command: 'GET DATA "beep" "3000" "4"', reply: ['200 result=42'] };
    writeFileSync(file, JSON.stringify(transcript));
    const bad = await run(t, ['replay', file, example, '--quiet']);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /replay FAILED after 2 matching commands/);
    assert.equal(bad.err.trim(), 'agikit: command 3 differs: recorded GET DATA "beep" "3000" "4", now GET DATA "beep" "6000" "4"');
  });

  it('refuses a file that is not a transcript with one line', async (t) => {
    const dir = tempDir(t, 'agikit-replay-');
    const file = join(dir, 'x.json');
    writeFileSync(file, '{"hello":1}');
    const r = await run(t, ['replay', file, example]);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(r.err, /not a transcript/);
  });
});

describe('agikit serve --record-dir', () => {
  it('records each call as a transcript that replays against the app', async (t) => {
    const dir = tempDir(t, 'agikit-rec-');
    const serve = start(t, ['serve', example, '--port', '0', '--record-dir', dir, '--max-connections', '5', '--allow', '127.0.0.1']);
    const port = Number((await serve.waitFor(/"port":(\d+),"msg":"agikit serving/))[1]);
    const call = await FakeCall.connect(port, { script: 'hello', env: { uniqueid: '777.1' } });
    call.respond((cmd) => (cmd.words[0] === 'GET' ? '200 result=5 (timeout)' : cmd.words[0] === 'STREAM' ? '200 result=0 endpos=10' : cmd.words[0] === 'SAY' ? '200 result=0' : '200 result=1'));
    await closed(call);
    await until(() => readdirSync(dir).length > 0, 'agikit serve --record-dir wrote no transcript');
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit('did not exit after SIGTERM'), 0);
    assert.deepEqual(readdirSync(dir), ['777.1.json']);
    const replay = await run(t, ['replay', join(dir, '777.1.json'), '--quiet']);
    assert.equal(replay.code, 0, replay.err + replay.out);
  });

  it('--pretty prints readable log lines', async (t) => {
    const serve = start(t, ['serve', example, '--port', '0', '--pretty', '--log-level', 'debug']);
    await serve.waitFor(/INFO  agikit serving .* on 127\.0\.0\.1:\d+/);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit('did not exit after SIGTERM'), 0);
  });
});

describe('agikit shell', () => {
  it('shows the call, runs raw and method-form commands typed at the prompt, shows the hangup, exits', async (t) => {
    const shell = start(t, ['shell', '--port', '0']);
    const port = Number((await shell.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    const call = await FakeCall.connect(port, { script: 'try?x=1', args: ['first arg'], env: { uniqueid: '99.1' } });
    await shell.waitFor(/call from .* \(uniqueid 99\.1/);
    assert.match(shell.stdout(), /path \/try\?x=1 {2}args \[ 'first arg' \]/);
    assert.match(shell.stdout(), /agi_network_script: try\?x=1/);

    shell.type('GET VARIABLE "CALLERID(num)"');
    const raw = await call.expectCommand('GET VARIABLE', 'CALLERID(num)');
    assert.equal(raw.line, 'GET VARIABLE "CALLERID(num)"');
    call.reply('200 result=1 (5551234)');
    await shell.waitFor(/<< 200 result=1 \(5551234\)\n= \{ code: 200, result: '1', data: '5551234' \}/);

    shell.type('streamFile beep #');
    await call.expectCommand('STREAM FILE', 'beep', '#');
    call.reply('200 result=35 endpos=1200');
    await shell.waitFor(/= \{ digit: '#', endpos: 1200 \}/);

    shell.type('waitForDigit 5000');
    await call.expectCommand('WAIT FOR DIGIT', '5000');
    // The HANGUP line comes first, so agikit knows the -1 is a hangup without probing the channel.
    call.hangup();
    call.reply('200 result=-1');
    await shell.waitFor(/\*\*\* the call hung up \(hangup-line\)/);
    await shell.waitFor(/! AgiHangupError \(hangup-line\)/);

    shell.type('exit');
    await call.expectCommand('SET VARIABLE', 'AGIKIT_STATUS', 'SUCCESS');
    call.reply('200 result=1');
    await shell.waitFor(/call returned to the dialplan/);
    await closed(call);
    shell.child.stdin.end();
    assert.equal(await shell.exit('did not exit at the end of its input'), 0);
  });
});

describe('agikit usage errors', () => {
  it('are one clear line on stderr with a non-zero exit', async (t) => {
    for (const args of [['serve', example, '--port', '99999'], ['bogus'], ['simulate'], ['replay', '/nonexistent.json', example]]) {
      const r = await run(t, args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.err.trim().split('\n').length, 1, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.out, '');
    }
  });
});

describe('agikit exec', () => {
  it('runs one-shot commands on the next call and returns it to the dialplan', async (t) => {
    const exec = start(t, ['exec', '--port', '0', 'ANSWER', 'sayNumber 42']);
    const port = Number((await exec.waitFor(/waiting for a call on agi:\/\/127\.0\.0\.1:(\d+)\//))[1]);
    const call = await FakeCall.connect(port);
    await call.expectCommand('ANSWER');
    call.reply('200 result=0');
    await call.expectCommand('SAY NUMBER', '42', '');
    call.reply('200 result=0');
    await call.expectCommand('SET VARIABLE', 'AGIKIT_STATUS', 'SUCCESS');
    call.reply('200 result=1');
    assert.equal(await exec.exit('did not exit after the call'), 0);
    assert.match(exec.stdout(), /> ANSWER\n<< 200 result=0\n/);
    assert.match(exec.stdout(), /> sayNumber 42\n= null\n/);
  });
});
