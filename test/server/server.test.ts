import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Agi } from '../../src/agi/agi.js';
import { AgiHangupError } from '../../src/errors.js';
import { FastAgiServer, type CallEnd } from '../../src/server/fastagi-server.js';
import { Router } from '../../src/server/router.js';
import { FakeCall, fakeHeaderLines } from '../../src/testing/fake-asterisk.js';
import { closed, isStatusWrite, quiet, serverForTest, startTestServer, type TestServer } from '../support/fake-server.js';
import { nextEvent, WAIT_MS, within } from '../support/settle.js';

/** Connects a raw socket, sends `data`, and resolves with everything received until the server closes. */
function rawExchange(port: number, data: string | Buffer | null): Promise<{ received: string; socket: Socket }> {
  const socket = connect({ port, host: '127.0.0.1' });
  const exchange = new Promise<{ received: string; socket: Socket }>((resolve, reject) => {
    let received = '';
    socket.on('data', (c) => (received += c.toString()));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ received, socket }));
    socket.once('connect', () => {
      if (data !== null) socket.write(data);
    });
    socket.once('error', reject);
  });
  const bounded = within(exchange, WAIT_MS, 'the server never closed the connection');
  bounded.catch(() => socket.destroy());
  return bounded;
}

/** Waits for the server's next `callEnd`; fails with `message` when none comes. */
function nextEnd(server: FastAgiServer, message = 'the server never ended the call (no callEnd)'): Promise<CallEnd> {
  return nextEvent<CallEnd>(server, 'callEnd', message);
}

/** Connects a raw socket to the server. */
async function rawConnect(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await nextEvent(socket, 'connect', `could not connect to 127.0.0.1:${port}`);
  return socket;
}

describe('FastAgiServer', () => {
  describe('routing and status', () => {
    let server: FastAgiServer;
    let port: number;
    const seen: Record<string, unknown> = {};
    before(async () => {
      server = new FastAgiServer({ port: 0, logger: quiet });
      server.route('/ivr/:tenant/:menu', async (agi) => {
        seen.route = { params: agi.params, lang: agi.query.get('lang'), args: agi.args, path: agi.path };
      });
      server.route('/fail', async () => {
        throw new Error('boom');
      });
      server.route('/files/*', async (agi) => {
        seen.wildcard = agi.params['*'];
      });
      ({ port } = await server.listen());
    });
    after(() => server.close({ timeoutMs: 1000 }));

    it('passes path params (decoded), query and arguments to the handler, and writes SUCCESS', async () => {
      const ended = nextEnd(server);
      const fake = await FakeCall.connect(port, { script: 'ivr/acme%20corp/main?lang=fr', args: ['one, two', 'x:y', ''] });
      fake.respond(() => '200 result=1');
      await closed(fake);
      const end = await ended;
      assert.deepEqual(seen.route, { params: { tenant: 'acme corp', menu: 'main' }, lang: 'fr', args: ['one, two', 'x:y', ''], path: '/ivr/acme%20corp/main' });
      assert.equal(end.status, 'SUCCESS');
      assert.deepEqual(fake.commands.map((c) => c.words), [['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS']]);
    });

    it('matches a trailing wildcard', async () => {
      const ended = nextEnd(server);
      const fake = await FakeCall.connect(port, { script: 'files/a/b.wav' });
      fake.respond(() => '200 result=1');
      await ended;
      assert.equal(seen.wildcard, 'a/b.wav');
    });

    it('writes NOTFOUND when no route matches', async () => {
      const ended = nextEnd(server);
      const fake = await FakeCall.connect(port, { script: 'nowhere' });
      fake.respond(() => '200 result=1');
      await closed(fake);
      assert.equal((await ended).status, 'NOTFOUND');
      assert.deepEqual(fake.commands[0]?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'NOTFOUND']);
    });

    it('writes FAILURE when the handler throws, and keeps serving other calls', async () => {
      const ended = nextEnd(server);
      const fake = await FakeCall.connect(port, { script: 'fail' });
      fake.respond(() => '200 result=1');
      await closed(fake);
      const end = await ended;
      assert.equal(end.status, 'FAILURE');
      assert.equal((end.error as Error).message, 'boom');
      assert.deepEqual(fake.commands[0]?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'FAILURE']);
      const okEnded = nextEnd(server);
      const ok = await FakeCall.connect(port, { script: 'ivr/a/b' });
      ok.respond(() => '200 result=1');
      assert.equal((await okEnded).status, 'SUCCESS');
      assert.equal(server.stats.calls.FAILURE, 1);
    });

    it('counts calls by status', () => {
      const stats = server.stats;
      assert.equal(stats.active, 0);
      assert.ok(stats.calls.SUCCESS >= 2);
      assert.equal(stats.calls.NOTFOUND, 1);
    });
  });

  it('sees a HANGUP that arrives in the same packet as the header', async (t) => {
    const server = serverForTest(t);
    let reason: unknown;
    server.fallback(async (agi) => {
      reason = await agi.hungUp;
    });
    const { port } = await server.listen();
    const socket = await rawConnect(port);
    t.after(() => socket.destroy());
    const ended = nextEnd(server, 'the call never ended: the HANGUP sent with the header was not seen');
    socket.on('data', () => socket.write('200 result=1\n'));
    socket.write(`${fakeHeaderLines().join('\n')}\n\nHANGUP\n`);
    assert.equal((await ended).status, 'SUCCESS');
    assert.equal(reason, 'hangup-line');
  });

  it('uses a fallback handler, and statusVariable: false writes nothing', async (t) => {
    const server = serverForTest(t, { statusVariable: false });
    let ran = false;
    server.fallback(async () => {
      ran = true;
    });
    const { port } = await server.listen();
    const fake = await FakeCall.connect(port, { script: 'anything' });
    await closed(fake);
    await server.close();
    assert.equal(ran, true);
    assert.deepEqual(fake.commands, []);
  });

  it('serves a Router given as an option', async (t) => {
    const router = new Router().route('/r', async (agi) => {
      await agi.noop('routed');
    });
    const server = serverForTest(t, { router });
    const { port } = await server.listen();
    const fake = await FakeCall.connect(port, { script: 'r' });
    fake.respond(() => '200 result=0');
    await closed(fake);
    await server.close();
    assert.deepEqual(fake.commands[0]?.words, ['NOOP', 'routed']);
    assert.throws(() => server.route('/x', async () => {}), /given a router/);
  });

  it('over maxConnections, a call ends at once with BUSY while the others go on', async (t) => {
    const server = serverForTest(t, { maxConnections: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server.fallback(async (agi) => {
      await gate;
      await agi.noop();
    });
    const { port } = await server.listen();
    const started = nextEvent(server, 'call', 'the first call never started');
    const first = await FakeCall.connect(port, { script: 'a' });
    first.respond(() => '200 result=1');
    await started;
    const second = await FakeCall.connect(port, { script: 'b' });
    second.respond(() => '200 result=1');
    await closed(second, 'the call over maxConnections was not ended at once with BUSY');
    assert.deepEqual(second.commands.map((c) => c.words), [['SET', 'VARIABLE', 'AGIKIT_STATUS', 'BUSY']]);
    release();
    await closed(first, 'the call in progress did not go on to its end');
    assert.deepEqual(first.commands.map((c) => c.words[0]), ['NOOP', 'SET']);
    await server.close();
    assert.deepEqual([server.stats.calls.BUSY, server.stats.calls.SUCCESS], [1, 1]);
  });

  describe('bad input gets a log line and a closed socket, never a crash or a hang', () => {
    let server: FastAgiServer;
    let port: number;
    /** Warnings logged during the current test only (each test gets its own log). */
    let logged: string[] = [];
    const digits: unknown[] = [];
    before(async () => {
      const sink = new Writable({
        write(chunk, _e, cb) {
          logged.push(chunk.toString());
          cb();
        },
      });
      server = new FastAgiServer({ port: 0, logger: pino({ level: 'warn' }, sink), headerTimeoutMs: 200 });
      server.fallback(async (agi) => {
        digits.push(await agi.waitForDigit(-1));
      });
      ({ port } = await server.listen());
    });
    beforeEach(() => {
      logged = [];
    });
    after(() => server.close({ timeoutMs: 1000 }));

    /**
     * Sends `data` (or, with `null`, nothing) on a raw connection; checks that the server sent nothing
     * back, counted exactly one protocol error, and logged exactly one warning saying `why`.
     */
    async function refused(data: string | Buffer | null | ((socket: Socket) => void), why: string): Promise<void> {
      const errorsBefore = server.stats.protocolErrors;
      const reported = nextEvent<Error>(server, 'protocolError', `no protocolError event for bad input that should fail with "${why}"`);
      if (typeof data === 'function') data(await rawConnect(port));
      else assert.equal((await rawExchange(port, data)).received, '', 'the server answered bad input');
      assert.match((await reported).message, new RegExp(why));
      assert.equal(server.stats.protocolErrors, errorsBefore + 1, 'protocolErrors counts it once');
      assert.equal(logged.length, 1, `one warning, got: ${logged.join('')}`);
      assert.ok(logged[0]?.includes(why), `the warning says "${why}": ${logged[0]}`);
    }

    it('garbage that is not AGI', async () => {
      await refused('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'not an AGI header line');
    });

    it('a header over 256 lines', async () => {
      const lines = Array.from({ length: 300 }, (_, i) => `agi_x${i}: v`).join('\n');
      await refused(`${lines}\n\n`, 'exceeds 256 lines');
    });

    it('a header over 64 KiB', async () => {
      const lines = Array.from({ length: 100 }, (_, i) => `agi_x${i}: ${'v'.repeat(1000)}`).join('\n');
      await refused(`${lines}\n\n`, 'exceeds 65536 bytes');
    });

    it('a header that never ends (timeout)', async () => {
      await refused('agi_channel: SIP/x\nagi_uniqueid: 1.1\n', 'no complete AGI header within 200 ms');
    });

    it('a connection that sends nothing at all', async () => {
      await refused(null, 'no complete AGI header within 200 ms');
    });

    it('a connection closed before the header ended', async () => {
      await refused((socket) => socket.end('agi_channel: x\n'), 'closed before the AGI header ended');
    });

    it('a 10 MB line without LF in the middle of a call ends that call (HANGUP), counted as one protocol error', async () => {
      const socket = await rawConnect(port);
      try {
        const errorsBefore = server.stats.protocolErrors;
        const ended = nextEnd(server, 'the call with a 10 MB line never ended');
        const asked = nextEvent(socket, 'data', 'the handler never sent WAIT FOR DIGIT');
        socket.write(`${fakeHeaderLines().join('\n')}\n\n`);
        await asked;
        const chunk = Buffer.alloc(1024 * 1024, 0x41);
        for (let i = 0; i < 10 && !socket.destroyed; i++) socket.write(chunk);
        const end = await ended;
        assert.equal(end.status, 'HANGUP');
        assert.ok(end.error instanceof AgiHangupError && end.error.reason === 'socket-closed', String(end.error));
        assert.equal(server.stats.protocolErrors, errorsBefore + 1, 'an overlong reply line is a protocol error too');
        assert.ok(logged.some((l) => l.includes('exceeds the 65536-byte limit')), logged.join(''));
      } finally {
        socket.destroy();
      }
    });

    it('counts every one of them and still serves a good call', async () => {
      // The six bad headers above and the 10 MB line are protocol errors; the 10 MB line ended a call (HANGUP).
      assert.equal(server.stats.protocolErrors, 7);
      assert.equal(server.stats.calls.HANGUP, 1);
      const ended = nextEnd(server, 'the good call never ended');
      const fake = await FakeCall.connect(port);
      await fake.expectCommand('WAIT FOR DIGIT', '-1');
      fake.reply('200 result=49');
      await fake.expectCommand('SET VARIABLE', 'AGIKIT_STATUS', 'SUCCESS');
      fake.reply('200 result=1');
      await closed(fake);
      const end = await ended;
      assert.deepEqual([end.status, end.error], ['SUCCESS', undefined]);
      assert.deepEqual(digits, ['1'], 'the good call\'s handler got its digit (the 10 MB call\'s got none)');
      assert.equal(fake.commands.length, 2);
      assert.deepEqual(server.stats.calls, { SUCCESS: 1, FAILURE: 0, HANGUP: 1, NOTFOUND: 0, BUSY: 0, TIMEOUT: 0, ABORTED: 0, LINGERED: 0, SHUTDOWN: 0 });
      assert.equal(server.stats.protocolErrors, 7);
      assert.equal(server.stats.active, 0);
    });
  });

  it('refuses clients outside the allow list', async (t) => {
    const server = serverForTest(t, { allow: ['10.0.0.0/8', '::2'] });
    server.fallback(async () => {});
    const { port } = await server.listen();
    const refused = nextEvent(server, 'refused', 'no refused event for a client outside the allow list');
    const { received } = await rawExchange(port, `${fakeHeaderLines().join('\n')}\n\n`);
    assert.equal(await refused, '127.0.0.1');
    assert.equal(received, '');
    assert.equal(server.stats.refused, 1);
    await server.close();
    const open = serverForTest(t, { allow: ['127.0.0.0/8'] });
    open.fallback(async () => {});
    const p = await open.listen();
    const fake = await FakeCall.connect(p.port);
    fake.respond(() => '200 result=1');
    await closed(fake);
    assert.equal(fake.commands.length, 1);
    await open.close();
  });

  it('close() stops accepting and waits for calls in progress', async (t) => {
    const server = serverForTest(t);
    let finished = false;
    server.fallback(async (agi) => {
      await agi.waitForDigit(5000);
      finished = true;
    });
    const { port } = await server.listen();
    const fake = await FakeCall.connect(port);
    await fake.nextCommand();
    const closing = server.close({ timeoutMs: 10_000 });
    let done = false;
    void closing.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(done, false, 'close waits for the call');
    await assert.rejects(FakeCall.connect(port), /ECONNREFUSED/);
    fake.reply('200 result=0');
    fake.respond(() => '200 result=1');
    await closing;
    assert.equal(finished, true);
  });

  it('close() past its deadline ends calls in progress and returns them to the dialplan', async (t) => {
    const server = serverForTest(t);
    let error: unknown;
    server.fallback(async (agi) => {
      try {
        await agi.waitForDigit(-1);
      } catch (e) {
        error = e;
      }
    });
    const { port } = await server.listen();
    const fake = await FakeCall.connect(port);
    await fake.nextCommand();
    await server.close({ timeoutMs: 50 });
    await closed(fake);
    assert.equal(error?.constructor.name, 'AgiSessionClosedError');
  });

  it('one child logger per call carries uniqueid and channel; wire traffic at debug', async (t) => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const server = serverForTest(t, { logger: pino({ level: 'debug' }, sink) });
    server.fallback(async (agi) => {
      await agi.answer();
    });
    const { port } = await server.listen();
    const fake = await FakeCall.connect(port, { env: { uniqueid: '1234.5', channel: 'PJSIP/bob-1' } });
    fake.respond(() => '200 result=0');
    await closed(fake);
    await server.close();
    const wire = lines.find((l) => l.msg === 'agi command' && l.command === 'ANSWER');
    assert.ok(wire, 'the command is logged at debug');
    assert.equal(wire.uniqueid, '1234.5');
    assert.equal(wire.channel, 'PJSIP/bob-1');
    assert.equal(wire.reply, '200 result=0');
  });
});

describe('concurrency', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('50 simultaneous calls, each with its own variables, none crossed', async () => {
    const results = new Map<string, unknown>();
    const calls = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.call(
          async (agi: Agi) => {
            await agi.setVariable('MINE', `value-${agi.args[0]}`);
            await new Promise((r) => setTimeout(r, (Number(agi.args[0]) * 7) % 13));
            results.set(agi.args[0] ?? '', await agi.getVariable('MINE'));
          },
          { args: [String(i)], env: { uniqueid: `1.${i}` } },
        ),
      ),
    );
    for (const { fake } of calls) {
      const vars = new Map<string, string>();
      fake.respond((cmd) => {
        if (cmd.words[1] === 'VARIABLE' && cmd.words[0] === 'SET') {
          vars.set(cmd.words[2] ?? '', cmd.words[3] ?? '');
          return '200 result=1';
        }
        const v = vars.get(cmd.words[2] ?? '');
        return v === undefined ? '200 result=0' : `200 result=1 (${v})`;
      });
    }
    await Promise.all(calls.map((c) => c.ended));
    for (let i = 0; i < 50; i++) assert.equal(results.get(String(i)), `value-${i}`);
    for (const { fake } of calls) assert.ok(isStatusWrite(fake.commands.at(-1)?.words ?? []));
  });
});
