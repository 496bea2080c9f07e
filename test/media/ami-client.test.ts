/**
 * AmiClient against a fake AMI server: greeting and login, ActionID correlation with responses out
 * of order, event lists, events, errors (bad login, Response: Error, timeout, connection lost),
 * field encoding, and close().
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AmiActionError, AmiClient, AmiError, type AmiMessage } from '../../src/ami/client.js';
import { nextEvent, WAIT_MS, within } from '../support/settle.js';

type Fields = Record<string, string>;

/** A fake Asterisk Manager: greets, parses actions, and lets the test answer them. */
class FakeAmi {
  readonly server: Server;
  readonly actions: Fields[] = [];
  socket: Socket | undefined;
  private readonly sockets = new Set<Socket>();
  /** Answer an action automatically; return undefined to answer by hand. */
  responder: (action: Fields, socket: Socket) => string | undefined = () => undefined;
  private readonly waiters: Array<(action: Fields) => void> = [];

  constructor() {
    this.server = createServer((socket) => {
      this.socket = socket;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.setEncoding('utf8');
      socket.write('Asterisk Call Manager/9.0.0\r\n');
      let buffer = '';
      socket.on('data', (data: string) => {
        buffer += data;
        let end: number;
        while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 4);
          const action: Fields = {};
          for (const line of block.split('\r\n')) {
            const colon = line.indexOf(': ');
            action[line.slice(0, colon)] = line.slice(colon + 2);
          }
          this.actions.push(action);
          const auto = this.responder(action, socket);
          if (auto !== undefined) socket.write(auto);
          this.waiters.shift()?.(action);
        }
      });
      socket.on('error', () => undefined);
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await nextEvent(this.server, 'listening', 'the fake AMI server did not start listening');
    const address = this.server.address();
    assert.ok(address && typeof address === 'object');
    return address.port;
  }

  /** The next action a client sends; fails if none comes within {@link WAIT_MS}. */
  nextAction(): Promise<Fields> {
    return within(new Promise((resolve) => this.waiters.push(resolve)), WAIT_MS, 'the client sent no AMI action');
  }

  /** Stops listening and drops every connection, so no socket keeps the test file running. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }

  send(...blocks: string[][]): void {
    this.socket?.write(blocks.map((lines) => `${lines.join('\r\n')}\r\n\r\n`).join(''));
  }
}

/** Responder that accepts the right login and answers Logoff. */
function loginResponder(action: Fields): string | undefined {
  const id = action['ActionID'] ?? '';
  if (action['Action'] === 'Login') {
    return action['Secret'] === 'good'
      ? `Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`
      : `Response: Error\r\nActionID: ${id}\r\nMessage: Authentication failed\r\n\r\n`;
  }
  if (action['Action'] === 'Logoff') return `Response: Goodbye\r\nActionID: ${id}\r\nMessage: Thanks for all the fish.\r\n\r\n`;
  return undefined;
}

describe('AmiClient (fake AMI server)', () => {
  let fake: FakeAmi;
  let port: number;
  before(async () => {
    fake = new FakeAmi();
    fake.responder = loginResponder;
    port = await fake.listen();
  });
  after(() => fake.close());

  it('logs in (events off by default), reads the banner, and logs off on close', async () => {
    const ami = await AmiClient.connect({ port, username: 'u', secret: 'good' });
    assert.equal(ami.banner, 'Asterisk Call Manager/9.0.0');
    assert.equal(ami.connected, true);
    const login = fake.actions.at(-1);
    assert.deepEqual({ ...login, ActionID: 'x' }, { Action: 'Login', ActionID: 'x', Username: 'u', Secret: 'good', Events: 'off' });
    const closed = nextEvent(ami, 'close', 'the client emitted no close event');
    await ami.close();
    await closed;
    assert.equal(fake.actions.at(-1)?.['Action'], 'Logoff');
    assert.equal(ami.connected, false);
  });

  it('bad credentials reject with AmiActionError and close the connection', async () => {
    await assert.rejects(AmiClient.connect({ port, username: 'u', secret: 'bad' }), (error: unknown) => {
      assert.ok(error instanceof AmiActionError);
      assert.equal(error.response.get('message'), 'Authentication failed');
      return true;
    });
  });

  it('correlates responses by ActionID even out of order; events go to listeners; fields are encoded', async () => {
    const ami = await AmiClient.connect({ port, username: 'u', secret: 'good', events: 'call,dtmf' });
    assert.equal(fake.actions.at(-1)?.['Events'], 'call,dtmf');
    const events: AmiMessage[] = [];
    ami.on('event', (e: AmiMessage) => events.push(e));
    const firstSent = fake.nextAction();
    const first = ami.action('Getvar', { Channel: 'PJSIP/a-1', Variable: 'X' });
    const a1 = await firstSent;
    const secondSent = fake.nextAction();
    const second = ami.playDtmf('PJSIP/a-1', 'D', { receive: true, durationMs: 120 });
    const a2 = await secondSent;
    assert.deepEqual({ ...a2, ActionID: 'x' }, { Action: 'PlayDTMF', ActionID: 'x', Channel: 'PJSIP/a-1', Digit: 'D', Duration: '120', Receive: 'yes' });
    assert.notEqual(a1['ActionID'], a2['ActionID']);
    fake.send(
      ['Event: DTMFEnd', 'Channel: PJSIP/a-1', 'Digit: D'],
      ['Response: Success', `ActionID: ${a2['ActionID'] ?? ''}`, 'Message: DTMF successfully queued'],
      ['Response: Success', `ActionID: ${a1['ActionID'] ?? ''}`, 'Variable: X', 'Value: 42: the answer'],
    );
    await second;
    const r1 = await first;
    assert.equal(r1.get('VALUE'), '42: the answer');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.get('event'), 'DTMFEnd');
    assert.deepEqual(events[0]?.toObject(), { Event: 'DTMFEnd', Channel: 'PJSIP/a-1', Digit: 'D' });
    // Repeated keys, and values that would break the framing.
    const listSent = fake.nextAction();
    const originate = ami.action('Originate', { Channel: 'Local/1@x', Variable: ['A=1', 'B=2'], Async: true, Skip: undefined });
    const raw = await listSent;
    assert.equal(raw['Async'], 'true');
    assert.equal('Skip' in raw, false);
    fake.send(['Response: Success', `ActionID: ${raw['ActionID'] ?? ''}`]);
    await originate;
    await assert.rejects(ami.action('Getvar', { Variable: 'X\r\nAction: Hangup' }), /line breaks/);
    await ami.close();
  });

  it('collects event lists until EventList: Complete; Response: Error rejects with AmiActionError', async () => {
    const ami = await AmiClient.connect({ port, username: 'u', secret: 'good' });
    const sent = fake.nextAction();
    const list = ami.actionList('CoreShowChannels');
    const a = await sent;
    const id = a['ActionID'] ?? '';
    fake.send(
      ['Response: Success', `ActionID: ${id}`, 'EventList: start', 'Message: Channels will follow'],
      ['Event: CoreShowChannel', `ActionID: ${id}`, 'Channel: Local/1@x-1;1'],
      ['Event: CoreShowChannel', `ActionID: ${id}`, 'Channel: Local/1@x-1;2'],
      ['Event: CoreShowChannelsComplete', `ActionID: ${id}`, 'EventList: Complete', 'ListItems: 2'],
    );
    const result = await list;
    assert.deepEqual(
      result.events.map((e) => e.get('Channel')),
      ['Local/1@x-1;1', 'Local/1@x-1;2'],
    );
    assert.equal(result.complete.get('ListItems'), '2');
    const errSent = fake.nextAction();
    const failing = ami.playDtmf('nope', '1');
    const e = await errSent;
    fake.send(['Response: Error', `ActionID: ${e['ActionID'] ?? ''}`, 'Message: No such channel']);
    await assert.rejects(failing, (error: unknown) => error instanceof AmiActionError && /No such channel/.test(error.message));
    await ami.close();
  });

  it('a late response rejects with AmiError; a lost connection rejects what is pending and later actions', async () => {
    const ami = await AmiClient.connect({ port, username: 'u', secret: 'good' });
    await assert.rejects(ami.action('Ping', {}, { timeoutMs: 50 }), (error: unknown) => error instanceof AmiError && /within 50 ms/.test(error.message));
    const pending = ami.action('Ping');
    const closed = nextEvent(ami, 'close', 'the client emitted no close event');
    fake.socket?.destroy();
    await assert.rejects(pending, (error: unknown) => error instanceof AmiError && /before Ping was answered/.test(error.message));
    await closed;
    assert.equal(ami.connected, false);
    await assert.rejects(ami.action('Ping'), /cannot send Ping/);
    await ami.close();
  });

  it('a refused connection rejects with AmiError', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await nextEvent(probe, 'listening', 'the probe server did not start listening');
    const address = probe.address();
    assert.ok(address && typeof address === 'object');
    probe.close();
    await nextEvent(probe, 'close', 'the probe server did not close');
    await assert.rejects(AmiClient.connect({ port: address.port, username: 'u', secret: 'good' }), AmiError);
  });
});
