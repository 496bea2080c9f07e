/**
 * AmiClient against a fake AMI server over TCP: greeting and login, ActionID correlation with
 * responses out of order, event lists, originate and its OriginateResponse, errors (bad login,
 * Response: Error, timeout, refused), field encoding, close(); and the connection policy: a server
 * that drops the connection mid-action, actions issued while disconnected, giving up, keep-alive.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  AmiActionError,
  AmiArgumentError,
  AmiClient,
  AmiClosedError,
  AmiConnectError,
  AmiConnectionLostError,
  AmiError,
  AmiLoginError,
  AmiTimeoutError,
  backoffDelay,
  type AmiClientOptions,
  type AmiConnectedInfo,
  type AmiMessage,
  type AmiReconnectingInfo,
} from '../../src/ami/index.js';
import { FakeAmi, loginResponder, type Fields } from '../support/fake-ami.js';
import { nextEvent } from '../support/settle.js';
import { quiet } from '../support/fake-server.js';

/** Answers `Response: Success` to an action (extra lines appended). */
function success(action: Fields, ...lines: string[]): string[] {
  return ['Response: Success', `ActionID: ${action['ActionID'] ?? ''}`, ...lines];
}

describe('AmiClient (fake AMI server)', () => {
  let fake: FakeAmi;
  let port: number;
  const clients: AmiClient[] = [];
  /** Connects with fast reconnects and a silent logger; closed after each test. */
  async function connect(options: Partial<AmiClientOptions> = {}): Promise<AmiClient> {
    const ami = await AmiClient.connect({ port, username: 'u', secret: 'good', logger: quiet, reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...options });
    clients.push(ami);
    return ami;
  }
  beforeEach(async () => {
    fake = new FakeAmi();
    port = await fake.listen();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await fake.close();
  });

  it('logs in (events off by default), reads the banner, and logs off on close', async () => {
    const ami = await connect();
    assert.equal(ami.banner, 'Asterisk Call Manager/9.0.0');
    assert.equal(ami.connected, true);
    const login = fake.actions.at(-1);
    assert.deepEqual({ ...login, ActionID: 'x' }, { Action: 'Login', ActionID: 'x', Username: 'u', Secret: 'good', Events: 'off' });
    const closed = nextEvent(ami, 'close', 'the client did not close');
    await ami.close();
    assert.equal(await closed, undefined);
    assert.equal(fake.actions.at(-1)?.['Action'], 'Logoff');
    assert.equal(ami.state, 'closed');
    await assert.rejects(ami.action('Ping'), (error: unknown) => error instanceof AmiClosedError && !error.sent);
  });

  it('bad credentials reject with AmiLoginError (an AmiActionError) and nothing reconnects', async () => {
    await assert.rejects(connect({ secret: 'bad' }), (error: unknown) => {
      assert.ok(error instanceof AmiLoginError && error instanceof AmiActionError);
      assert.equal(error.response.get('message'), 'Authentication failed');
      return true;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(fake.connections, 1);
  });

  it('a refused connection and a server that never greets reject with AmiConnectError', async () => {
    await fake.close();
    await assert.rejects(connect(), AmiConnectError);
    const silent = new FakeAmi();
    const silentPort = await silent.listen();
    silent.server.removeAllListeners('connection');
    silent.server.on('connection', () => undefined);
    await assert.rejects(connect({ port: silentPort, connectTimeoutMs: 100 }), (error: unknown) => error instanceof AmiConnectError && /no AMI greeting .* within 100 ms/.test(error.message));
    silent.server.close();
    fake = new FakeAmi();
    await fake.listen();
  });

  it('correlates responses by ActionID even out of order; events go to listeners; fields are encoded', async () => {
    const ami = await connect({ events: 'call,dtmf' });
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
    fake.send(['Event: DTMFEnd', 'Channel: PJSIP/a-1', 'Digit: D'], success(a2, 'Message: DTMF successfully queued'), success(a1, 'Variable: X', 'Value: 42: the answer'));
    await second;
    const r1 = await first;
    assert.equal(r1.get('VALUE'), '42: the answer');
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.toObject(), { Event: 'DTMFEnd', Channel: 'PJSIP/a-1', Digit: 'D' });
    // Repeated keys, and values that would break the framing.
    const sent = fake.nextAction('Originate');
    const queued = ami.action('Originate', { Channel: 'Local/1@x', Variable: ['A=1', 'B=2'], Async: true, Skip: undefined });
    const raw = await sent;
    assert.equal(raw['Variable'], 'A=1,B=2');
    assert.equal(raw['Async'], 'true');
    assert.equal('Skip' in raw, false);
    fake.send(success(raw));
    await queued;
    const before = fake.actions.length;
    await assert.rejects(ami.action('Getvar', { Variable: 'X\r\nAction: Hangup' }), (e: unknown) => e instanceof AmiArgumentError && /line breaks/.test(e.message));
    await assert.rejects(ami.action('Ping', { ActionID: 'mine' }), AmiArgumentError);
    await assert.rejects(ami.action('Ping', { 'Bad: key': '1' }), AmiArgumentError);
    assert.equal(fake.actions.length, before, 'nothing was sent');
    assert.equal(ami.stats.pendingActions, 0);
  });

  it('collects event lists until EventList: Complete; Response: Error rejects with AmiActionError', async () => {
    const ami = await connect();
    const sent = fake.nextAction();
    const list = ami.actionList('CoreShowChannels');
    const a = await sent;
    const id = a['ActionID'] ?? '';
    fake.send(
      success(a, 'EventList: start', 'Message: Channels will follow'),
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
  });

  it('helpers send the documented fields; getVariable reads Value', async () => {
    const ami = await connect();
    fake.responder = (action) => loginResponder(action) ?? `Response: Success\r\nActionID: ${action['ActionID']}\r\nValue: v1\r\n\r\n`;
    const strip = ({ ActionID: _id, ...rest }: Fields): Fields => rest;
    await ami.redirect('uid-1', { context: 'relay-resume', exten: 's' });
    assert.deepEqual(strip(fake.actions.at(-1) ?? {}), { Action: 'Redirect', Channel: 'uid-1', Context: 'relay-resume', Exten: 's', Priority: '1' });
    await ami.setVariable('uid-1', 'VOLUME(TX)', '2');
    assert.deepEqual(strip(fake.actions.at(-1) ?? {}), { Action: 'Setvar', Channel: 'uid-1', Variable: 'VOLUME(TX)', Value: '2' });
    assert.equal(await ami.getVariable(undefined, 'GLOBALX'), 'v1');
    assert.deepEqual(strip(fake.actions.at(-1) ?? {}), { Action: 'Getvar', Variable: 'GLOBALX' });
    await ami.hangup('uid-1', { cause: 17 });
    assert.deepEqual(strip(fake.actions.at(-1) ?? {}), { Action: 'Hangup', Channel: 'uid-1', Cause: '17' });
    await ami.setEvents('call,user');
    assert.deepEqual(strip(fake.actions.at(-1) ?? {}), { Action: 'Events', EventMask: 'call,user' });
  });

  it('originate resolves with its OriginateResponse, which also reaches listeners and the channel subscription', async () => {
    const ami = await connect({ events: 'call' });
    const seen: string[] = [];
    ami.channel('uuid-1', (e) => seen.push(`sub:${e.get('Event')}`));
    ami.on('event', (e: AmiMessage) => seen.push(`all:${e.get('Event')}`));
    const sent = fake.nextAction('Originate');
    const call = ami.originate({ channel: 'Local/s@far/n', context: 'relay-dial', exten: 's', channelId: 'uuid-1', timeoutMs: 4000, variables: { RELAY_OWNER: 'agi://127.0.0.1:4573' } });
    const a = await sent;
    assert.deepEqual(
      { ...a, ActionID: 'x' },
      {
        Action: 'Originate',
        ActionID: 'x',
        Channel: 'Local/s@far/n',
        Context: 'relay-dial',
        Exten: 's',
        Priority: '1',
        ChannelId: 'uuid-1',
        Timeout: '4000',
        Variable: 'RELAY_OWNER=agi://127.0.0.1:4573',
        Async: 'true',
      },
    );
    const id = a['ActionID'] ?? '';
    fake.send(success(a, 'Message: Originate successfully queued'), ['Event: Newchannel', 'Uniqueid: uuid-1', 'Linkedid: uuid-1']);
    // The queued response alone does not finish it.
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(ami.stats.pendingActions, 1);
    fake.send(['Event: OriginateResponse', `ActionID: ${id}`, 'Response: Failure', 'Channel: Local/s@far/n', 'Reason: 5', 'Uniqueid: uuid-1']);
    const result = await call;
    assert.equal(result.success, false);
    assert.equal(result.reason, 5);
    assert.equal(result.uniqueid, 'uuid-1');
    assert.equal(result.response.get('Message'), 'Originate successfully queued');
    assert.deepEqual(seen, ['all:Newchannel', 'sub:Newchannel', 'all:OriginateResponse', 'sub:OriginateResponse']);
    assert.equal(ami.stats.pendingActions, 0);
  });

  it('a timeout rejects with AmiTimeoutError (sent); the late response is ignored', async () => {
    const ami = await connect();
    const sent = fake.nextAction('Ping');
    await assert.rejects(ami.action('Ping', {}, { timeoutMs: 50 }), (error: unknown) => error instanceof AmiTimeoutError && error.sent && /within 50 ms/.test(error.message));
    fake.send(success(await sent, 'Ping: Pong'));
    const pong = fake.nextAction('Ping');
    const next = ami.action('Ping');
    fake.send(success(await pong, 'Ping: Pong'));
    assert.equal((await next).get('Ping'), 'Pong');
  });

  it('a server that drops the connection mid-action: the action rejects with AmiConnectionLostError, is not resent, and the client logs in again', async () => {
    const ami = await connect({ events: 'call,user' });
    const log: string[] = [];
    ami.on('disconnected', (e: AmiError) => log.push(`disconnected:${e.constructor.name}`));
    ami.on('reconnecting', (r: AmiReconnectingInfo) => log.push(`reconnecting:${r.attempt}`));
    ami.on('connected', (c: AmiConnectedInfo) => log.push(`connected:${c.reconnected}`));
    fake.responder = (action, socket) => {
      if (action['Action'] === 'Redirect') {
        socket.destroy();
        return undefined;
      }
      return loginResponder(action) ?? `Response: Success\r\nActionID: ${action['ActionID']}\r\n\r\n`;
    };
    const relogin = fake.nextAction('Login');
    await assert.rejects(ami.redirect('uid-1', { context: 'c', exten: 's' }), (error: unknown) => {
      assert.ok(error instanceof AmiConnectionLostError, String(error));
      assert.equal(error.action, 'Redirect');
      assert.equal(error.answered, false);
      assert.ok(error.cause instanceof AmiError);
      return true;
    });
    const login = await relogin;
    assert.equal(login['Events'], 'call,user', 'the event mask is restored');
    if (!ami.connected) await nextEvent(ami, 'connected', 'the client did not connect (again)');
    assert.deepEqual(log, ['disconnected:AmiError', 'reconnecting:1', 'connected:true']);
    await ami.setVariable('uid-1', 'X', '1');
    assert.equal(fake.received('Redirect').length, 1, 'the dropped action was never resent');
    assert.equal(fake.connections, 2);
    assert.equal(ami.stats.pendingActions, 0);
  });

  it('an originate dropped after it was queued rejects with answered: true', async () => {
    const ami = await connect();
    const sent = fake.nextAction('Originate');
    const call = ami.originate({ channel: 'Local/s@far/n', application: 'Wait', data: '1' });
    fake.send(success(await sent, 'Message: Originate successfully queued'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    fake.drop();
    await assert.rejects(call, (error: unknown) => error instanceof AmiConnectionLostError && error.answered);
    await nextEvent(ami, 'connected', 'the client did not connect (again)');
    assert.equal(fake.received('Originate').length, 1);
  });

  it('actions issued while disconnected wait for the connection within their deadline, then are sent once', async () => {
    const ami = await connect({ reconnect: { initialDelayMs: 300, maxDelayMs: 300 } });
    fake.responder = (action) => loginResponder(action) ?? `Response: Success\r\nActionID: ${action['ActionID']}\r\nPing: Pong\r\n\r\n`;
    const lost = nextEvent(ami, 'disconnected', 'the client did not report the connection lost');
    fake.drop();
    await lost;
    assert.equal(ami.connected, false);
    const tooShort = ami.action('Ping', { Tag: 'short' }, { timeoutMs: 50 });
    const waits = ami.action('Ping', { Tag: 'waits' }, { timeoutMs: 5000 });
    assert.equal(ami.stats.queuedActions, 2);
    await assert.rejects(tooShort, (error: unknown) => error instanceof AmiTimeoutError && !error.sent && /not sent/.test(error.message));
    assert.equal((await waits).get('Ping'), 'Pong');
    assert.deepEqual(
      fake.received('Ping').map((a) => a['Tag']),
      ['waits'],
      'the expired action was never sent',
    );
    assert.equal(ami.stats.queuedActions, 0);
  });

  it('close() while reconnecting stops for good and rejects what waits with AmiClosedError', async () => {
    const ami = await connect({ reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
    fake.mode = 'refuse';
    const attempts: number[] = [];
    ami.on('reconnecting', (r: AmiReconnectingInfo) => attempts.push(r.attempt));
    fake.drop();
    await nextEvent(ami, 'reconnecting', 'the client did not try to reconnect');
    await nextEvent(ami, 'reconnecting', 'the client did not try to reconnect');
    const waiting = ami.action('Ping');
    const closed = nextEvent(ami, 'close', 'the client did not close');
    await ami.close();
    await closed;
    await assert.rejects(waiting, (error: unknown) => error instanceof AmiClosedError && !error.sent);
    const connections = fake.connections;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(fake.connections, connections, 'no attempt after close()');
    assert.ok(attempts.length >= 2);
  });

  it('gives up after maxAttempts: close with the reason, later actions reject with AmiClosedError', async () => {
    const ami = await connect({ reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 } });
    fake.mode = 'refuse';
    const closed = nextEvent<AmiError | undefined>(ami, 'close', 'the client did not close');
    const lost = nextEvent(ami, 'disconnected', 'the client did not report the connection lost');
    fake.drop();
    await lost;
    const waiting = ami.action('Ping', {}, { timeoutMs: 5000 });
    const reason = await closed;
    assert.ok(reason instanceof AmiConnectError, String(reason));
    assert.equal(fake.connections, 4);
    await assert.rejects(waiting, (error: unknown) => error instanceof AmiClosedError && error.cause === reason);
    await assert.rejects(ami.action('Ping'), AmiClosedError);
  });

  it('reconnecting off: a loss closes the client', async () => {
    const ami = await connect({ reconnect: false });
    const closed = nextEvent<AmiError>(ami, 'close', 'the client did not close');
    fake.drop();
    assert.ok((await closed) instanceof AmiError);
    assert.equal(ami.state, 'closed');
    await assert.rejects(ami.action('Ping'), AmiClosedError);
  });

  it('an unanswered keep-alive Ping drops the connection and reconnects', async () => {
    const ami = await connect({ pingIntervalMs: 30, actionTimeoutMs: 100 });
    let answerPings = false;
    fake.responder = (action) => loginResponder(action) ?? (answerPings ? `Response: Success\r\nActionID: ${action['ActionID']}\r\nPing: Pong\r\n\r\n` : undefined);
    const lost = await nextEvent<AmiError>(ami, 'disconnected', 'the client did not report the connection lost');
    assert.match(lost.message, /keep-alive Ping unanswered/);
    answerPings = true;
    await nextEvent(ami, 'connected', 'the client did not connect (again)');
    assert.equal(fake.connections, 2);
  });
});

describe('backoffDelay', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: Number.POSITIVE_INFINITY };
  it('doubles from the initial delay up to the cap, jittered within the upper half', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 10, 100].map((n) => backoffDelay(n, policy, () => 1)),
      [100, 200, 400, 800, 1000, 1000, 1000],
    );
    assert.deepEqual(
      [1, 2, 5].map((n) => backoffDelay(n, policy, () => 0)),
      [50, 100, 500],
    );
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, policy);
      assert.ok(d >= 200 && d <= 400, String(d));
    }
  });
});
