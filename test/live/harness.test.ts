/**
 * Smoke test of the live-Asterisk harness (src/testing/asterisk.ts): a real
 * Asterisk 22 in Docker, driven by a hand-written FastAGI peer so that this
 * test depends on nothing but the harness itself.
 *
 * Skipped, with the reason, when Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  asteriskSockets,
  defaultAsteriskConfigDir,
  far,
  liveAsteriskAvailable,
  signalCommand,
  startAsterisk,
  type LiveAsterisk,
} from '../../src/testing/asterisk.js';
import { cliQuote, escapeAppArgument, parseDatabaseShow } from '../../src/testing/dialplan-text.js';

/** One FastAGI connection, spoken by hand: lines in, lines out. */
class RawAgiSession {
  private buffer = '';
  private readonly lines: string[] = [];
  private readonly waiters: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  private closed = false;

  constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      this.buffer += data;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const waiter = this.waiters.shift();
        if (waiter !== undefined) waiter.resolve(line);
        else this.lines.push(line);
      }
    });
    const fail = (): void => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('AGI connection closed'));
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  /** Next line from Asterisk, without the newline. */
  readLine(timeoutMs = 15_000): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new Error('AGI connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line from Asterisk within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** The agi_* environment, read up to the blank line. */
  async readHeader(): Promise<Map<string, string>> {
    const header = new Map<string, string>();
    for (;;) {
      const line = await this.readLine();
      if (line === '') return header;
      const colon = line.indexOf(': ');
      assert.ok(colon > 0, `malformed header line ${JSON.stringify(line)}`);
      header.set(line.slice(0, colon), line.slice(colon + 2));
    }
  }

  /** Send one command and return the reply line. */
  async command(text: string): Promise<string> {
    this.socket.write(`${text}\n`);
    return this.readLine();
  }

  /** Close our side; Asterisk then ends AGI() with AGISTATUS=SUCCESS. */
  close(): void {
    this.socket.end();
  }
}

/** A FastAGI listener on 127.0.0.1 with an OS-chosen port. */
class RawAgiServer {
  private readonly pending: RawAgiSession[] = [];
  private readonly waiters: ((s: RawAgiSession) => void)[] = [];
  private readonly server: net.Server;

  private constructor() {
    this.server = net.createServer((socket) => {
      const session = new RawAgiSession(socket);
      const waiter = this.waiters.shift();
      if (waiter !== undefined) waiter(session);
      else this.pending.push(session);
    });
  }

  static async listen(): Promise<RawAgiServer> {
    const s = new RawAgiServer();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get port(): number {
    const address = this.server.address();
    assert.ok(address !== null && typeof address === 'object');
    return address.port;
  }

  /** The next connection Asterisk makes. */
  accept(timeoutMs = 15_000): Promise<RawAgiSession> {
    const queued = this.pending.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Asterisk did not connect within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((s) => {
        clearTimeout(timer);
        resolve(s);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('dialplan text helpers', () => {
  it('quotes CLI words and escapes application arguments', () => {
    assert.equal(cliQuote('a "b" \\c'), '"a \\"b\\" \\\\c"');
    assert.equal(escapeAppArgument('x, "y" (z) [w] \\'), 'x\\, \\"y\\" \\(z\\) \\[w\\] \\\\');
    const out = '/agikit-result/c1/agistatus                       : SUCCESS                  \n1 results found.\n';
    assert.deepEqual(parseDatabaseShow(out, 'agikit-result/c1'), [{ key: 'agistatus', value: 'SUCCESS' }]);
  });
});

const live = await liveAsteriskAvailable();
// Each live test is skipped (and counted as skipped) with the reason when
// Docker or the image cannot be had; never passed silently.
const skip = live.ok ? false : `live Asterisk unavailable: ${live.reason}`;

describe('live Asterisk harness', () => {
  let asterisk: LiveAsterisk | undefined;
  let server: RawAgiServer | undefined;

  before(async () => {
    if (!live.ok) return;
    asterisk = await startAsterisk();
    server = await RawAgiServer.listen();
  });

  after(async () => {
    await server?.close();
    await asterisk?.stop();
  });

  it('runs Asterisk 22', { skip }, async () => {
    assert.ok(asterisk);
    assert.match(asterisk.version, /^Asterisk 22\./);
    assert.match(await asterisk.cli('core show version'), /^Asterisk 22\./);
  });

  it('loads every module listed in asterisk-conf/modules.conf', { skip }, async () => {
    assert.ok(asterisk);
    const conf = readFileSync(path.join(defaultAsteriskConfigDir(), 'modules.conf'), 'utf8');
    const modules = [...conf.matchAll(/^load\s*=>\s*(\S+)/gm)].map((m) => m[1] ?? '');
    assert.ok(modules.length >= 30, `only ${modules.length} modules listed`);
    const outputs = await asterisk.cliMany(modules.map((m) => `module show like ${m}`));
    modules.forEach((m, i) => {
      assert.match(outputs[i] ?? '', new RegExp(`^${m.replace('.', '\\.')}\\s.*\\sRunning\\s`, 'm'), `${m} is not running`);
    });
    // Local channels are part of the core.
    assert.match(await asterisk.cli('core show channeltypes'), /^Local\s/m);
  });

  it('opens no network sockets (containers share the host network)', { skip }, async () => {
    assert.ok(asterisk);
    const sockets = await asteriskSockets(asterisk);
    assert.deepEqual(sockets, [], `Asterisk holds network sockets:\n${JSON.stringify(sockets)}`);
  });

  it('hands a call to a FastAGI server and records what the app did', { skip }, async () => {
    assert.ok(asterisk && server);
    const args = ['hello world, with comma', 'quote " paren ( bracket [ backslash \\', 'dollar ${NOPE} $[1+1]', ''];
    const call = await asterisk.originate({
      agi: { port: server.port, route: 'smoke/route' },
      args,
      record: ['FOO'],
      callerId: { number: '5551234', name: 'Smoke Test' },
    });
    const session = await server.accept();
    const header = await session.readHeader();
    assert.equal(header.get('agi_network'), 'yes');
    assert.equal(header.get('agi_network_script'), 'smoke/route');
    assert.equal(header.get('agi_request'), `agi://127.0.0.1:${server.port}/smoke/route`);
    assert.equal(header.get('agi_extension'), call.id);
    assert.equal(header.get('agi_context'), call.appContext);
    assert.equal(header.get('agi_callerid'), '5551234');
    assert.equal(header.get('agi_calleridname'), 'Smoke Test');
    args.forEach((arg, i) => assert.equal(header.get(`agi_arg_${i + 1}`), arg, `agi_arg_${i + 1}`));
    assert.equal(await session.command('ANSWER'), '200 result=0');
    assert.equal(await session.command('SET VARIABLE FOO "bar"'), '200 result=1');
    session.close();

    const result = await call.result();
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.equal(result.variables['FOO'], 'bar');
    assert.equal(result.location?.context, 'agikit-app');
    assert.equal(result.location?.extension, call.id);
    assert.equal(result.farTimeout, undefined);
    // The call's dialplan and astdb entries are cleaned up afterwards.
    assert.equal(await asterisk.dbGet(`agikit-result/${call.id}`, 'done'), undefined);
    assert.doesNotMatch(await asterisk.cli('dialplan show agikit-app'), new RegExp(call.id));
  });

  it('delivers far-leg DTMF to WAIT FOR DIGIT after the app signals', { skip }, async () => {
    assert.ok(asterisk && server);
    const call = await asterisk.originate({
      agi: { port: server.port, route: 'dtmf' },
      far: [far.waitFor('ready'), far.dtmf('5')],
    });
    const session = await server.accept();
    await session.readHeader();
    assert.equal(await session.command(signalCommand(call.id, 'ready')), '200 result=1');
    assert.equal(await session.command('WAIT FOR DIGIT 10000'), '200 result=53');
    session.close();
    const result = await call.result();
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.equal(result.farTimeout, undefined);
  });

  it('lets the test and the far leg signal each other, and the far leg read digits the app sends', { skip }, async () => {
    assert.ok(asterisk && server);
    const call = await asterisk.originate({
      agi: { port: server.port, route: 'senddtmf' },
      far: [
        far.signal('far-up'),
        far.waitFor('test-go'),
        // Raised right before Read() starts: digits sent earlier would be lost.
        far.signal('reading'),
        far.read('got', { maxDigits: 3, timeoutSeconds: 5 }),
      ],
    });
    const session = await server.accept();
    await session.readHeader();
    await call.waitForSignal('far-up');
    await call.signal('test-go');
    await call.waitForSignal('reading');
    assert.equal(await session.command('EXEC SendDTMF 123,,100'), '200 result=0');
    session.close();
    const result = await call.result();
    assert.equal(result.farDigits['got'], '123');
  });
});
