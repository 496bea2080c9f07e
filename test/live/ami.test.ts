/**
 * Live: AmiClient against a real Asterisk 22 with AMI on 127.0.0.1 at a port chosen per run.
 * - Per-channel events of real calls: two originated Local channels (with ChannelIds), each
 *   subscription gets only its channel's events (Newchannel, Newstate, VarSet, Newexten, Hangup,
 *   OriginateResponse); the helpers act on the channel and the dialplan shows it (Setvar/Getvar,
 *   Redirect to another extension, Hangup).
 * - Asterisk drops the session (`manager kick session`): the client logs in again with its event
 *   mask (a UserEvent raised afterwards arrives).
 * - The socket drops (a TCP relay between client and Asterisk is cut) while a synchronous Originate
 *   is in flight: the action rejects with AmiConnectionLostError, the client logs in again, and the
 *   call ran exactly once (the far leg counts its answers). (`manager kick session` cannot do this:
 *   Asterisk closes a kicked session only once its current action has finished.)
 * - An Asterisk restart (`core restart now`): the client reconnects once Asterisk is back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import {
  AmiClient,
  AmiConnectionLostError,
  type AmiConnectedInfo,
  type AmiError,
  type AmiMessage,
  type AmiReconnectingInfo,
} from '../../src/ami/index.js';
import { startAsterisk, type AmiAccess, type LiveAsterisk } from '../../src/testing/asterisk.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import { nextEvent } from '../support/settle.js';
import { quiet } from '../support/fake-server.js';
import { live, skip } from './rig.js';

const CONTEXT = 'amitest';

/** The test dialplan: `[extension, [[application, data], ...]]`. */
const DIALPLAN: Array<[string, Array<[string, string]>]> = [
  // Far halves of the Local channels.
  ['answer', [['Answer', ''], ['Wait', '30']]],
  ['slow', [['Ringing', ''], ['Wait', '2'], ['Answer', ''], ['Set', 'GLOBAL(AMI_SLOW)=${GLOBAL(AMI_SLOW)}x'], ['Wait', '1']]],
  // Where the originated channels go.
  ['park', [['NoOp', 'parked'], ['Wait', '30']]],
  ['moved', [['NoOp', 'moved with ${AMIVAR}'], ['Wait', '30']]],
];

/** Resolves once `predicate` holds for an element of `list`, or fails with `what` after `ms`. */
async function seen(list: AmiMessage[], predicate: (m: AmiMessage) => boolean, what: string, ms = 10_000): Promise<AmiMessage> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = list.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`not seen within ${ms} ms: ${what}; got ${list.map((m) => m.get('Event')).join(', ')}`);
    await sleep(20);
  }
}

/** A TCP relay on 127.0.0.1 to Asterisk's AMI port whose connections the test can cut. */
class TcpRelay {
  connections = 0;
  private readonly pairs = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<TcpRelay> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const relay = new TcpRelay(server, (server.address() as { port: number }).port);
    server.on('connection', (inbound) => {
      relay.connections += 1;
      const outbound = createConnection({ host: '127.0.0.1', port: target });
      for (const [from, to] of [
        [inbound, outbound],
        [outbound, inbound],
      ] as const) {
        relay.pairs.add(from);
        from.pipe(to);
        from.on('error', () => undefined);
        from.on('close', () => (relay.pairs.delete(from), to.destroy()));
      }
    });
    return relay;
  }

  /** Drops every relayed connection at once, both sides. */
  cut(): void {
    for (const socket of this.pairs) socket.destroy();
  }

  close(): void {
    this.cut();
    this.server.close();
  }
}

describe('live: AmiClient', () => {
  let asterisk: LiveAsterisk | undefined;
  let ami: AmiClient | undefined;
  let amiPort = 0;
  let access: AmiAccess = { host: '127.0.0.1', port: 0, username: '', secret: '' };

  before(async () => {
    if (!live.ok) return;
    asterisk = await startAsterisk({ ami: { read: 'system,call,dialplan,user', write: 'system,call,originate,user' } });
    assert.ok(asterisk.ami);
    access = asterisk.ami;
    amiPort = access.port;
    const commands = DIALPLAN.flatMap(([exten, steps]) => steps.map(([app, data], i) => addExtensionCommand(CONTEXT, exten, i + 1, app, data)));
    for (const out of await asterisk.cliMany(commands)) assert.match(out, /added into/);
    ami = await AmiClient.connect({ port: amiPort, username: access.username, secret: access.secret, events: 'system,call,dialplan,user', logger: quiet, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
  });
  after(async () => {
    await ami?.close();
    await asterisk?.stop();
  });

  it('per-channel events of two real calls; Setvar, Getvar, Redirect and Hangup act on the channel', { skip }, async () => {
    assert.ok(ami);
    const [a, b] = [randomUUID(), randomUUID()];
    const got = new Map<string, AmiMessage[]>([a, `${a};2`, b].map((id) => [id, []]));
    const subs = [...got].map(([id, list]) => ami!.channel(id, (e) => list.push(e)));
    const chain: AmiMessage[] = [];
    subs.push(ami.linked(a, (e) => chain.push(e)));
    const calls = await Promise.all(
      [a, b].map((id) => ami!.originate({ channel: `Local/answer@${CONTEXT}/n`, context: CONTEXT, exten: 'park', channelId: id, timeoutMs: 10_000 })),
    );
    for (const [i, id] of [a, b].entries()) {
      assert.deepEqual([calls[i]?.success, calls[i]?.reason, calls[i]?.uniqueid], [true, 4, id], `originate ${id}`);
    }
    const A = got.get(a) as AmiMessage[];
    await seen(A, (e) => e.get('Event') === 'Newexten' && e.get('Extension') === 'park', `${a} in park`);

    await ami.setVariable(a, 'AMIVAR', `value-of-${a}`);
    await seen(A, (e) => e.get('Event') === 'VarSet' && e.get('Variable') === 'AMIVAR', 'VarSet AMIVAR');
    assert.equal(await ami.getVariable(a, 'AMIVAR'), `value-of-${a}`);
    assert.equal(await ami.getVariable(b, 'AMIVAR'), '', 'the other call has no AMIVAR');

    await ami.redirect(a, { context: CONTEXT, exten: 'moved' });
    const moved = await seen(A, (e) => e.get('Event') === 'Newexten' && e.get('Extension') === 'moved', `${a} in moved`);
    assert.equal(moved.get('AppData'), `moved with value-of-${a}`);

    await ami.hangup(a, { cause: 16 });
    await ami.hangup(b);
    await seen(A, (e) => e.get('Event') === 'Hangup', `Hangup of ${a}`);
    await seen(got.get(`${a};2`) as AmiMessage[], (e) => e.get('Event') === 'Hangup', `Hangup of ${a};2`);
    await seen(got.get(b) as AmiMessage[], (e) => e.get('Event') === 'Hangup', `Hangup of ${b}`);

    for (const [id, list] of got) {
      for (const e of list) assert.ok(e.get('Uniqueid') === id || e.get('DestUniqueid') === id, `${e.get('Event')} of ${e.get('Uniqueid')} reached ${id}`);
    }
    const names = (list: AmiMessage[]): string[] => [...new Set(list.map((e) => e.get('Event') ?? ''))];
    for (const event of ['Newchannel', 'Newstate', 'OriginateResponse', 'VarSet', 'Newexten', 'Hangup']) assert.ok(names(A).includes(event), `${event} in ${names(A)}`);
    assert.equal(A.find((e) => e.get('Event') === 'Hangup')?.get('Cause'), '16');
    assert.ok(
      A.some((e) => e.get('Event') === 'Newstate' && e.get('ChannelStateDesc') === 'Up'),
      'the channel went Up',
    );
    assert.ok(!names(got.get(b) as AmiMessage[]).includes('VarSet') || !(got.get(b) as AmiMessage[]).some((e) => e.get('Variable') === 'AMIVAR'));
    // The call chain of a: both halves of its Local channel, nothing of b.
    assert.deepEqual([...new Set(chain.map((e) => e.get('Uniqueid')))].sort(), [a, `${a};2`].sort());

    for (const sub of subs) sub.unsubscribe();
    assert.deepEqual([ami.stats.channelSubscriptions, ami.stats.linkedSubscriptions], [0, 0]);
  });

  it('Asterisk kicks the session (manager kick session): the client logs in again with its event mask', { skip }, async () => {
    assert.ok(ami && asterisk);
    const connected = await asterisk.cli('manager show connected');
    const fd = new RegExp(`^\\s*${access.username}\\s+127\\.0\\.0\\.1\\s+\\d+\\s+\\d+\\s+(\\d+)`, 'm').exec(connected)?.[1];
    assert.ok(fd, connected);
    const lost = nextEvent<AmiError>(ami, 'disconnected', 'the client did not report the connection lost', 15_000);
    const back = nextEvent<AmiConnectedInfo>(ami, 'connected', 'the client did not connect again', 15_000);
    assert.match(await asterisk.cli(`manager kick session ${fd}`), /Kicking manager session/);
    assert.match((await lost).message, /closed by the peer/);
    assert.equal((await back).reconnected, true);
    // The event mask is back: a UserEvent (class user) raised through AMI comes back as an event.
    const userEvents: AmiMessage[] = [];
    const onEvent = (e: AmiMessage): number | undefined => (e.get('Event') === 'UserEvent' ? userEvents.push(e) : undefined);
    ami.on('event', onEvent);
    await ami.action('UserEvent', { UserEvent: 'AmiBack', Tag: 'after-kick' });
    await seen(userEvents, (e) => e.get('Tag') === 'after-kick', 'UserEvent after re-login');
    ami.off('event', onEvent);
  });

  it('the socket drops while an Originate is in flight: AmiConnectionLostError, re-login, the call ran once', { skip }, async () => {
    assert.ok(asterisk);
    const relay = await TcpRelay.start(amiPort);
    const client = await AmiClient.connect({ port: relay.port, username: access.username, secret: access.secret, logger: quiet, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
    try {
      // A synchronous Originate holds its response until the far leg answers (after 2 s).
      const inFlight = client.action('Originate', { Channel: `Local/slow@${CONTEXT}/n`, Application: 'Wait', Data: '1', Timeout: 10_000 }, { timeoutMs: 15_000 });
      await sleep(500);
      const back = nextEvent<AmiConnectedInfo>(client, 'connected', 'the client did not connect again', 15_000);
      relay.cut();
      await assert.rejects(inFlight, (error: unknown) => error instanceof AmiConnectionLostError && error.action === 'Originate' && !error.answered);
      assert.equal((await back).reconnected, true);
      assert.equal((await client.action('Ping')).get('Ping'), 'Pong');
      // The far leg answered once: the dropped Originate was not sent again.
      const deadline = Date.now() + 10_000;
      while ((await asterisk.getGlobal('AMI_SLOW')) === '') {
        assert.ok(Date.now() < deadline, 'the slow far leg never answered');
        await sleep(100);
      }
      await sleep(3000);
      assert.equal(await asterisk.getGlobal('AMI_SLOW'), 'x');
      assert.equal(relay.connections, 2);
    } finally {
      await client.close();
      relay.close();
    }
  });

  it('Asterisk restarts: the client reconnects with backoff once it is back, and works', { skip }, async () => {
    assert.ok(ami && asterisk);
    const attempts: AmiReconnectingInfo[] = [];
    const onReconnecting = (r: AmiReconnectingInfo): number => attempts.push(r);
    ami.on('reconnecting', onReconnecting);
    const events: AmiMessage[] = [];
    const onEvent = (e: AmiMessage): number => events.push(e);
    ami.on('event', onEvent);
    const lost = nextEvent<AmiError>(ami, 'disconnected', 'the client did not report the connection lost', 15_000);
    const back = nextEvent(ami, 'connected', 'the client did not connect again', 60_000);
    await asterisk.cli('core restart now').catch(() => undefined);
    await lost;
    await back;
    assert.ok(attempts.length >= 1);
    assert.ok(
      events.some((e) => e.get('Event') === 'Shutdown' && e.get('Restart') === 'True'),
      'Asterisk announced the restart',
    );
    assert.equal((await ami.action('Ping')).get('Ping'), 'Pong');
    await ami.action('UserEvent', { UserEvent: 'AmiBack', Tag: 'after-restart' });
    await seen(events, (e) => e.get('Tag') === 'after-restart', 'UserEvent after the restart');
    ami.off('reconnecting', onReconnecting);
    ami.off('event', onEvent);
  });
});
