/**
 * `agikit serve` as operations sees it: the drain deadline is kept even when Asterisk does not read
 * the socket (EXEC Dial), a second signal ends the drain at once, the limits are flags, and the
 * operations endpoint (metrics, health) works. Each test runs the CLI in its own process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeCall, fakeHeaderLines } from '../../src/testing/fake-asterisk.js';
import { within } from '../support/settle.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
const app = fileURLToPath(new URL('../fixtures/ops-app.js', import.meta.url));

/** Runs `agikit serve <ops-app> …`; resolves ports from its JSON log lines. */
function serve(args: string[]) {
  const child = spawn(process.execPath, [bin, 'serve', app, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null, at: Date.now() }));
  /** Resolves with the first capture of `pattern` in the output so far or to come. */
  const logged = (pattern: RegExp, what: string): Promise<string> =>
    within(
      new Promise<string>((resolve) => {
        const check = (): void => {
          const m = pattern.exec(out);
          if (m) resolve(m[1] ?? m[0]);
          else waiters.push(check);
        };
        check();
      }),
      15_000,
      `serve never logged ${what}: ${out}${err}`,
    );
  const port = logged(/"port":(\d+),"msg":"agikit serving/, 'its port').then(Number);
  return { child, port, exited, logged, output: () => out };
}

/** A raw FastAGI call that sends its header and resolves with the first command line. */
async function rawCall(port: number, script: string): Promise<{ socket: Socket; first: string }> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const data = once(socket, 'data');
  socket.write(`${fakeHeaderLines({ script }).join('\n')}\n\n`);
  const [chunk] = (await within(data, 5000, 'no first command')) as [Buffer];
  return { socket, first: chunk.toString() };
}

/** Everything left to read on a socket that stopped reading, up to EOF. */
async function rest(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  const closed = once(socket, 'close');
  socket.resume();
  await within(closed, 5000, 'the server never closed the call');
  return text;
}

describe('agikit serve: drain, limits, operations endpoint', () => {
  it('keeps --drain-timeout when Asterisk is not reading the socket (EXEC Dial): sockets are destroyed at the deadline, AGIKIT_STATUS=SHUTDOWN', async () => {
    const s = serve(['--drain-timeout', '1000']);
    const { socket, first } = await rawCall(await s.port, 'dial');
    assert.equal(first, 'EXEC "Dial" "PJSIP/alice,30"\n');
    socket.pause(); // Asterisk inside Dial: it reads nothing until Dial returns.
    const signalled = Date.now();
    s.child.kill('SIGTERM');
    const exit = await within(s.exited, 15_000, 'serve did not exit');
    const tookMs = exit.at - signalled;
    assert.equal(exit.code, 0);
    // Before: ~6 s (the deadline, then a 5 s close grace waiting for Asterisk to close its side).
    assert.ok(tookMs >= 950 && tookMs < 2500, `exited ${tookMs} ms after SIGTERM with --drain-timeout 1000`);
    assert.match(await rest(socket), /^SET VARIABLE "AGIKIT_STATUS" "SHUTDOWN"\n$/);
  });

  it('a second SIGTERM during the drain ends the calls at once (AGIKIT_STATUS=SHUTDOWN) and exits 0', async () => {
    const s = serve(['--drain-timeout', '60000']);
    const { socket } = await rawCall(await s.port, 'dial');
    socket.pause();
    s.child.kill('SIGTERM');
    await s.logged(/draining calls before exit/, 'the drain');
    const second = Date.now();
    s.child.kill('SIGTERM');
    const exit = await within(s.exited, 15_000, 'serve did not exit after the second signal');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    assert.ok(exit.at - second < 2000, `exited ${exit.at - second} ms after the second SIGTERM`);
    assert.match(await rest(socket), /^SET VARIABLE "AGIKIT_STATUS" "SHUTDOWN"\n$/);
  });

  it('--header-timeout, --max-pending and --command-timeout are applied', async () => {
    const s = serve(['--header-timeout', '300', '--max-pending', '1', '--command-timeout', '200']);
    const port = await s.port;
    // One stalled header is held (pending) until the header timeout; a second one is over --max-pending.
    const stalled = connect({ port, host: '127.0.0.1' });
    stalled.on('error', () => {});
    await once(stalled, 'connect');
    const stalledClosed = once(stalled, 'close').then(() => Date.now());
    stalled.write('agi_network: yes\n');
    const stalledAt = Date.now();
    await new Promise((r) => setTimeout(r, 100));
    const over = connect({ port, host: '127.0.0.1' });
    over.on('error', () => {});
    await within(once(over, 'close'), 5000, 'the connection over --max-pending was not closed');
    const heldMs = (await within(stalledClosed, 5000, 'the stalled header was not timed out')) - stalledAt;
    assert.ok(heldMs >= 250 && heldMs < 3000, `stalled header closed after ${heldMs} ms with --header-timeout 300`);
    await s.logged(/too many connections pending/, 'the pending limit');
    // A command never answered times out: the dialplan is told TIMEOUT.
    const call = await FakeCall.connect(port, { script: 'wait' });
    assert.deepEqual((await call.nextCommand()).words, ['WAIT', 'FOR', 'DIGIT', '-1']);
    await within(call.closed, 5000, 'the timed-out call was not closed');
    assert.deepEqual(call.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'TIMEOUT']);
    s.child.kill('SIGTERM');
    assert.equal((await within(s.exited, 15_000, 'serve did not exit')).code, 0);
  });

  it('--metrics-port: Prometheus metrics and a health check on 127.0.0.1, draining shows in /health', async () => {
    const s = serve(['--metrics-port', '0', '--drain-timeout', '2000']);
    const port = await s.port;
    const metricsLine = await s.logged(/(\{[^\n]*operations endpoint listening[^\n]*\})/, 'the endpoint');
    const endpoint = JSON.parse(metricsLine) as { host: string; port: number };
    assert.equal(endpoint.host, '127.0.0.1');
    const base = `http://127.0.0.1:${endpoint.port}`;

    const call = await FakeCall.connect(port, { script: 'answer' });
    call.respond(() => '200 result=0');
    await call.closed;
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');

    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const expected of [
      /^agikit_calls_active 0$/m,
      /^agikit_calls_started_total 1$/m,
      /^agikit_calls_ended_total\{status="SUCCESS"\} 1$/m,
      /^agikit_command_round_trip_seconds_count\{command="ANSWER"\} 1$/m,
      /^agikit_command_round_trip_seconds_count\{command="SET VARIABLE"\} 1$/m,
      /^agikit_sessions_closed_by_agikit_total\{status="TIMEOUT"\} 0$/m,
      /^agikit_errors_total\{kind="protocol"\} 0$/m,
      /^agikit_connections_pending \d+$/m,
      /^agikit_handlers_lingering 0$/m,
      /^process_resident_memory_bytes \d+/m,
    ]) {
      assert.match(metrics, expected);
    }
    assert.equal((await fetch(`${base}/nothing`)).status, 404);

    // Draining: /health says so (a load balancer stops sending calls), metrics still answer.
    const busy = await rawCall(port, 'dial');
    busy.socket.pause();
    s.child.kill('SIGTERM');
    await s.logged(/draining calls before exit/, 'the drain');
    const draining = await fetch(`${base}/health`);
    assert.equal(draining.status, 503);
    assert.equal(((await draining.json()) as { status: string }).status, 'draining');
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^agikit_calls_active 1$/m);
    assert.equal((await within(s.exited, 15_000, 'serve did not exit')).code, 0);
  });

  it('--help documents the second signal and the limits', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await within(once(child, 'exit'), 10_000, 'help did not exit');
    assert.match(out, /A second SIGTERM\/SIGINT during the drain ends them at once/);
    for (const flag of ['--header-timeout', '--command-timeout', '--hangup-grace', '--max-pending', '--metrics-port', '--metrics-host']) assert.ok(out.includes(flag), flag);
  });
});
