/**
 * The Relay infrastructure without Asterisk: the pure parts (AMI events to call states, what a
 * session's `HANGUP` means, `RELAY_OWNER`'s value, the relay dialplan kept in
 * asterisk-conf/extensions.conf), {@link ChannelAmi} on a fake AMI client (one subscription per
 * call), calls known through AMI only, and D1 (leave AGI, come back on `/relay/resume` to the same
 * Call) on a fake Asterisk.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AmiClient } from '../../src/ami/client.js';
import { AmiActionError, isNoSuchChannel } from '../../src/ami/errors.js';
import { AmiMessage, type AmiFields } from '../../src/ami/message.js';
import type { Call } from '../../src/relay/call.js';
import { callSignalOf, ChannelAmi } from '../../src/relay/channel-ami.js';
import { Consumer } from '../../src/relay/consumer.js';
import { advertisedOwner, ownerUrl, RELAY_DIALPLAN, RESERVED_CONTEXT_NAMES } from '../../src/relay/dialplan.js';
import { CallNotControllableError, RelayArgumentError, RelayCapabilityError, RelayError } from '../../src/relay/errors.js';
import { RelayRuntime, type RelayOptions } from '../../src/relay/runtime.js';
import { statesBetween } from '../../src/relay/state.js';
import { classifyHangup, HANGUP_PROBE_EXPRESSION, parseHangupProbe } from '../../src/relay/sessions.js';
import { FastAgiServer } from '../../src/server/fastagi-server.js';
import { Router } from '../../src/server/router.js';
import { FakeCall, type ReceivedCommand } from '../../src/testing/fake-asterisk.js';
import { isStatusWrite, quiet } from '../support/fake-server.js';
import { until, within, WAIT_MS } from '../support/settle.js';

/** An AMI event or response. */
function message(fields: Record<string, string>): AmiMessage {
  return new AmiMessage(Object.entries(fields));
}

/** An AMI client that records actions, answers Success, and delivers events pushed with {@link emit} to channel subscriptions. */
class FakeAmi {
  readonly actions: Array<{ name: string; fields: AmiFields }> = [];
  readonly subscriptions = new Map<string, Set<(event: AmiMessage) => void>>();
  connected = true;
  onAction: ((name: string, fields: AmiFields) => void) | undefined;

  channel(id: string, listener: (event: AmiMessage) => void): { id: string; active: boolean; unsubscribe(): void } {
    const set = this.subscriptions.get(id) ?? new Set();
    this.subscriptions.set(id, set.add(listener));
    const subscription = {
      id,
      active: true,
      unsubscribe: () => {
        subscription.active = false;
        set.delete(listener);
        if (set.size === 0) this.subscriptions.delete(id);
      },
    };
    return subscription;
  }

  emit(fields: Record<string, string>): void {
    const event = message(fields);
    for (const listener of [...(this.subscriptions.get(fields['Uniqueid'] ?? '') ?? [])]) listener(event);
  }

  async action(name: string, fields: AmiFields = {}): Promise<AmiMessage> {
    this.actions.push({ name, fields });
    this.onAction?.(name, fields);
    return message({ Response: 'Success', ...(name === 'Getvar' ? { Value: 'Up' } : {}) });
  }

  async redirect(channel: string, to: { context: string; exten: string; priority?: number | string }): Promise<void> {
    await this.action('Redirect', { Channel: channel, Context: to.context, Exten: to.exten, Priority: to.priority ?? 1 });
  }

  /** What the next Originate answers (default: placed). */
  originateResult = { success: true, reason: 4 };

  async originate(options: { channel: string; channelId?: string; variables?: Record<string, string> }): Promise<{ success: boolean; reason: number }> {
    await this.action('Originate', { Channel: options.channel, ChannelId: options.channelId, ...options.variables });
    return this.originateResult;
  }

  async hangup(channel: string): Promise<void> {
    await this.action('Hangup', { Channel: channel });
  }

  async playDtmf(channel: string, digit: string): Promise<void> {
    await this.action('PlayDTMF', { Channel: channel, Digit: digit });
  }

  get client(): AmiClient {
    return this as unknown as AmiClient;
  }

  names(): string[] {
    return this.actions.map((a) => a.name);
  }
}

/** Every state event of a call, in order. */
function watch(call: Call): string[] {
  const seen: string[] = [];
  for (const name of ['created', 'ringing', 'answered', 'ending', 'ended'] as const) call.on(name, () => seen.push(name));
  return seen;
}

describe('Relay infrastructure: pure parts', () => {
  it('callSignalOf: Newchannel created, Newstate 4/5 ringing and 6 answered, (Soft)HangupRequest ending, Hangup ended with its cause', () => {
    const of = (fields: Record<string, string>) => callSignalOf(message(fields));
    assert.deepEqual(of({ Event: 'Newchannel', Uniqueid: 'u' }), { state: 'created' });
    assert.deepEqual(of({ Event: 'Newstate', ChannelState: '4' }), { state: 'ringing' });
    assert.deepEqual(of({ Event: 'Newstate', ChannelState: '5' }), { state: 'ringing' });
    assert.deepEqual(of({ Event: 'Newstate', ChannelState: '6' }), { state: 'answered' });
    assert.equal(of({ Event: 'Newstate', ChannelState: '0' }), undefined);
    assert.deepEqual(of({ Event: 'HangupRequest', Cause: '17' }), { state: 'ending' });
    assert.deepEqual(of({ Event: 'SoftHangupRequest', Cause: '32' }), { state: 'ending' });
    assert.deepEqual(of({ Event: 'Hangup', Cause: '17' }), { state: 'ended', cause: 17 });
    assert.deepEqual(of({ Event: 'Hangup' }), { state: 'ended', cause: null });
    assert.equal(of({ Event: 'DTMFEnd' }), undefined);
  });

  it('statesBetween: created always first, no ringing invented, ending before ended, never backwards', () => {
    assert.deepEqual(statesBetween('none', 'created'), ['created']);
    assert.deepEqual(statesBetween('none', 'answered'), ['created', 'answered']);
    assert.deepEqual(statesBetween('none', 'ended'), ['created', 'ending', 'ended']);
    assert.deepEqual(statesBetween('created', 'answered'), ['answered']);
    assert.deepEqual(statesBetween('ringing', 'ended'), ['ending', 'ended']);
    assert.deepEqual(statesBetween('ending', 'ended'), ['ended']);
    assert.deepEqual(statesBetween('answered', 'ringing'), []);
    assert.deepEqual(statesBetween('ended', 'ended'), []);
  });

  it('a HANGUP line is read from where the channel is: not moved is a hangup, moved into [relay-resume] comes back, moved elsewhere left', () => {
    const ran = { context: 'agikit-app', extension: 'c1', priority: 4 };
    assert.equal(HANGUP_PROBE_EXPRESSION, '${CONTEXT}|${EXTEN}|${PRIORITY}|${HANGUPCAUSE}');
    assert.deepEqual(parseHangupProbe('relay-resume|s|1|'), { context: 'relay-resume', exten: 's', priority: 1, cause: null });
    assert.equal(parseHangupProbe(undefined), null);
    assert.equal(parseHangupProbe('garbage'), null);
    assert.equal(classifyHangup(ran, parseHangupProbe('agikit-app|c1|4|17')), 'hangup');
    assert.equal(classifyHangup(ran, parseHangupProbe('relay-resume|s|1|0')), 'resume');
    assert.equal(classifyHangup({ context: 'relay-resume', extension: 's', priority: 1 }, parseHangupProbe('relay-resume|fax|1|0')), 'resume', 'a fax-detect goto from a resumed session');
    assert.equal(classifyHangup(ran, parseHangupProbe('voicemail|s|1|0')), 'elsewhere');
    assert.equal(classifyHangup(ran, null), 'unknown');
  });

  it('RELAY_OWNER: the advertised URL, else the listening address (a wildcard: the first external IPv4)', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: '10.1.2.3', family: 'IPv4', internal: false },
      ],
    };
    assert.equal(ownerUrl({ address: '127.0.0.1', port: 4573 }, undefined, interfaces), 'agi://127.0.0.1:4573');
    assert.equal(ownerUrl({ address: '0.0.0.0', port: 4573 }, undefined, interfaces), 'agi://10.1.2.3:4573');
    assert.equal(ownerUrl({ address: '::', port: 4573 }, undefined, { lo: interfaces.lo }), 'agi://127.0.0.1:4573');
    assert.equal(ownerUrl({ address: '::1', port: 9 }, undefined, {}), 'agi://[::1]:9');
    assert.equal(ownerUrl({ address: '0.0.0.0', port: 4573 }, 'agi://pbx-side.example:4573/', interfaces), 'agi://pbx-side.example:4573');
    assert.equal(advertisedOwner('agi://10.0.0.5'), 'agi://10.0.0.5');
    for (const bad of ['hagi://relay.example.com', 'agi://h:1/relay', 'http://h:1', 'agi://']) assert.throws(() => advertisedOwner(bad), RelayArgumentError, bad);
  });

  it('asterisk-conf/extensions.conf holds RELAY_DIALPLAN verbatim; modules.conf loads what it needs', () => {
    const conf = readFileSync(new URL('../../../asterisk-conf/extensions.conf', import.meta.url), 'utf8');
    assert.ok(conf.includes(RELAY_DIALPLAN), 'extensions.conf differs from src/relay/dialplan.ts (copy RELAY_DIALPLAN into it)');
    const agiCalls = RELAY_DIALPLAN.split('\n').filter((line) => line.includes(',AGI('));
    assert.equal(agiCalls.length, 4);
    for (const line of agiCalls) assert.match(line, /,AGI\(\$\{RELAY_(OWNER|CONSUMER)\}\/relay\//, `no fixed address or port: ${line}`);
    const modules = readFileSync(new URL('../../../asterisk-conf/modules.conf', import.meta.url), 'utf8');
    for (const module of ['app_chanspy.so', 'app_stack.so', 'func_callerid.so', 'res_agi.so', 'res_speech.so']) assert.match(modules, new RegExp(`^load => ${module.replace('.', '\\.')}`, 'm'), module);
  });

  it("a consumer may not serve a context named like the runtime's own routes", () => {
    assert.deepEqual(RESERVED_CONTEXT_NAMES, ['resume', 'dialed', 'helper']);
    class Resume extends Consumer {
      override setup(): void {
        this.contexts = ['office', 'resume'];
      }
    }
    assert.throws(() => new Resume().router(), (error: unknown) => error instanceof RelayError && /"resume" is reserved/.test(error.message));
  });
});

describe('ChannelAmi', () => {
  it("one subscription per call whatever the listeners; the call's own events go to its state; close() frees it", () => {
    const ami = new FakeAmi();
    const own: string[] = [];
    const channelAmi = new ChannelAmi(ami.client, { id: 'u1', channel: undefined }, (event) => own.push(event.get('Event') ?? ''));
    assert.equal(ami.subscriptions.size, 0, 'nothing before follow()');
    channelAmi.follow();
    channelAmi.follow();
    const dtmf: string[] = [];
    const all: string[] = [];
    const stop = channelAmi.onEvents(['DTMFEnd'], (event) => dtmf.push(event.get('Digit') ?? ''));
    channelAmi.onEvents(null, (event) => all.push(event.get('Event') ?? ''));
    assert.equal(ami.subscriptions.get('u1')?.size, 1);
    ami.emit({ Event: 'DTMFEnd', Uniqueid: 'u1', Digit: '5' });
    ami.emit({ Event: 'Newstate', Uniqueid: 'u1', ChannelState: '6' });
    ami.emit({ Event: 'DTMFEnd', Uniqueid: 'other', Digit: '9' });
    stop();
    ami.emit({ Event: 'DTMFEnd', Uniqueid: 'u1', Digit: '6' });
    assert.deepEqual({ own, dtmf, all }, { own: ['DTMFEnd', 'Newstate', 'DTMFEnd'], dtmf: ['5'], all: ['DTMFEnd', 'Newstate', 'DTMFEnd'] });
    channelAmi.close();
    assert.equal(ami.subscriptions.size, 0);
    assert.equal(channelAmi.following, false);
    channelAmi.onEvents(['DTMFEnd'], () => assert.fail('no events after close'));
    channelAmi.follow();
    assert.equal(ami.subscriptions.size, 0, 'a closed ChannelAmi does not subscribe again');
  });

  it('actions address the channel by name once known, else by Uniqueid', async () => {
    const ami = new FakeAmi();
    const owner: { id: string; channel: string | undefined } = { id: 'u1', channel: undefined };
    const channelAmi = new ChannelAmi(ami.client, owner, () => undefined);
    await channelAmi.setVariable('RELAY_OWNER', 'agi://h:1');
    owner.channel = 'PJSIP/alice-0001';
    await channelAmi.redirect({ context: 'relay-resume', exten: 's' });
    await channelAmi.hangup(17);
    await channelAmi.controlPlayback('stop');
    assert.equal(await channelAmi.getVariable('CHANNEL(state)'), 'Up');
    assert.deepEqual(ami.actions, [
      { name: 'Setvar', fields: { Channel: 'u1', Variable: 'RELAY_OWNER', Value: 'agi://h:1' } },
      { name: 'Redirect', fields: { Channel: 'PJSIP/alice-0001', Context: 'relay-resume', Exten: 's', Priority: 1 } },
      { name: 'Hangup', fields: { Channel: 'PJSIP/alice-0001', Cause: 17 } },
      { name: 'ControlPlayback', fields: { Channel: 'PJSIP/alice-0001', Control: 'stop' } },
      { name: 'Getvar', fields: { Channel: 'PJSIP/alice-0001', Variable: 'CHANNEL(state)' } },
    ]);
  });
});

describe('Calls known through AMI only', () => {
  it('states from AMI events; methods that need AGI throw no-agi; the end frees the subscription and the registry entry', async () => {
    const ami = new FakeAmi();
    const runtime = new RelayRuntime({ ami: ami.client, log: quiet });
    const call = runtime.trackCall({ id: 'o1', context: 'c', fromNumber: '', toNumber: '200' });
    assert.equal(runtime.trackCall({ id: 'o1', context: 'c', fromNumber: '', toNumber: '200' }), call, 'one Call per Uniqueid');
    const seen = watch(call);
    ami.emit({ Event: 'Newchannel', Uniqueid: 'o1' });
    ami.emit({ Event: 'Newstate', Uniqueid: 'o1', ChannelState: '5' });
    ami.emit({ Event: 'Newstate', Uniqueid: 'o1', ChannelState: '6' });
    assert.equal(call.state, 'answered');
    assert.equal(call.agi, null);
    await assert.rejects(call.playAudio('hello-world'), (e: unknown) => e instanceof CallNotControllableError && e.why === 'no-agi');
    await assert.rejects(call.promptAudio({ promptType: 'digits', url: 'welcome', digitsMax: 1 }), (e: unknown) => e instanceof CallNotControllableError && e.why === 'no-agi');
    await assert.rejects(call.answer(), (e: unknown) => e instanceof CallNotControllableError && e.why === 'no-agi');
    ami.emit({ Event: 'HangupRequest', Uniqueid: 'o1', Cause: '17' });
    ami.emit({ Event: 'Hangup', Uniqueid: 'o1', Cause: '17' });
    assert.deepEqual(seen, ['created', 'ringing', 'answered', 'ending', 'ended']);
    assert.deepEqual([call.hangupReason, call.busy], ['busy', true]);
    assert.equal(runtime.call('o1'), undefined);
    assert.equal(ami.subscriptions.size, 0);
  });

  it('hangup() of a channel already gone (AMI: No such channel) is unsuccessful and resolves once its Hangup event came; other AMI failures are thrown', async () => {
    const ami = new FakeAmi();
    const runtime = new RelayRuntime({ ami: ami.client, log: quiet });
    let refusal = 'No such channel';
    ami.onAction = (name) => {
      if (name === 'Hangup') throw new AmiActionError('Hangup', message({ Response: 'Error', Message: refusal }));
    };
    const call = runtime.trackCall({ id: 'o4', context: 'c', fromNumber: '', toNumber: '' });
    await call.refreshState();
    setTimeout(() => ami.emit({ Event: 'Hangup', Uniqueid: 'o4', Cause: '17' }), 20);
    const result = await within(call.hangup(), WAIT_MS, 'hangup to resolve');
    assert.deepEqual([result.successful, call.state, call.hangupReason], [false, 'ended', 'busy']);
    refusal = 'Permission denied';
    const other = runtime.trackCall({ id: 'o5', context: 'c', fromNumber: '', toNumber: '' });
    await other.refreshState();
    await assert.rejects(other.hangup(), (error: unknown) => error instanceof AmiActionError && !isNoSuchChannel(error));
    assert.equal(other.state, 'answered');
  });

  it('created comes first even when Up is learnt before Newchannel (AMI sends events through Stasis, after the Getvar answer); the late Newchannel changes nothing', async () => {
    const ami = new FakeAmi();
    const runtime = new RelayRuntime({ ami: ami.client, log: quiet });
    const call = runtime.trackCall({ id: 'o3', context: 'c', fromNumber: '', toNumber: '' });
    const seen = watch(call);
    const changes: string[] = [];
    call.on('stateChange', (state, previous) => changes.push(`${previous}>${state}`));
    await call.refreshState();
    ami.emit({ Event: 'Newchannel', Uniqueid: 'o3' });
    ami.emit({ Event: 'Newstate', Uniqueid: 'o3', ChannelState: '6' });
    ami.emit({ Event: 'Hangup', Uniqueid: 'o3', Cause: '16' });
    assert.deepEqual(seen, ['created', 'answered', 'ending', 'ended']);
    assert.deepEqual(changes, ['none>created', 'created>answered', 'answered>ending', 'ending>ended']);
  });

  it('hangup() is AMI Hangup with the cause and resolves once the Hangup event came; without AMI trackCall is refused', async () => {
    const ami = new FakeAmi();
    ami.onAction = (name) => {
      if (name === 'Hangup') setImmediate(() => ami.emit({ Event: 'Hangup', Uniqueid: 'o2', Cause: '16' }));
    };
    const runtime = new RelayRuntime({ ami: ami.client, log: quiet });
    const call = runtime.trackCall({ id: 'o2', context: 'c', fromNumber: '', toNumber: '' });
    await call.refreshState();
    assert.equal(call.state, 'answered', 'CHANNEL(state) Up over AMI');
    const result = await within(call.hangup({ reason: 'decline' }), WAIT_MS, 'hangup to resolve');
    assert.deepEqual([result.successful, result.reason, call.state], [true, 'decline', 'ended']);
    assert.deepEqual(ami.actions.at(-1), { name: 'Hangup', fields: { Channel: 'o2', Cause: 21 } });
    assert.throws(() => new RelayRuntime({ log: quiet }).trackCall({ id: 'x', context: 'c', fromNumber: '', toNumber: '' }), RelayCapabilityError);
  });
});

/** A runtime serving `/relay/unit` on a FastAGI server, with the calls' applications given per test. */
async function relayServer(options: RelayOptions, app: (call: Call) => Promise<void>) {
  const runtime = new RelayRuntime({ log: quiet, owner: 'agi://127.0.0.1:4573', ...options });
  const failures: unknown[] = [];
  const router = runtime.router(['unit'], (call) => app(call).catch((error: unknown) => void failures.push(error)), new Router());
  const server = new FastAgiServer({ port: 0, logger: quiet, router });
  const { port } = await server.listen();
  /** A fake Asterisk session on `path` for the channel `uniqueid`, answering CHANNEL STATUS Up and the status write. */
  const session = async (path: string, uniqueid: string, env: Record<string, string> = {}): Promise<FakeCall> => {
    return FakeCall.connect(port, { script: path, env: { uniqueid, channel: `Local/${uniqueid}@unit;1`, context: 'agikit-app', extension: '100', priority: '4', ...env } });
  };
  return { runtime, server, session, failures, close: () => server.close({ timeoutMs: 500 }) };
}

/** Resolves once `ami` is sent a Redirect. */
function redirectSent(ami: FakeAmi): Promise<void> {
  return new Promise((resolve) => {
    ami.onAction = (name) => name === 'Redirect' && resolve();
  });
}

/** Answers CHANNEL STATUS (Up) and the end-of-session status write; everything else by hand. */
function standard(command: ReceivedCommand): string | undefined {
  if (command.words[0] === 'CHANNEL' && command.words[1] === 'STATUS') return '200 result=6';
  if (isStatusWrite(command.words)) return '200 result=1';
  return undefined;
}

describe('D1 on a fake Asterisk: a call leaves its AGI session and comes back to the same Call', () => {
  it('leaveAgi(): RELAY_OWNER, Redirect; the HANGUP that follows is no hangup; /relay/resume attaches the new session to the same Call, which plays on it', async () => {
    const ami = new FakeAmi();
    let report: Record<string, unknown> = {};
    const redirect = redirectSent(ami);
    const t = await relayServer({ ami: ami.client }, async (call) => {
      const seen = watch(call);
      const first = call.agi;
      await call.leaveAgi();
      const away = call.agi;
      const back = await call.reattached();
      const played = await call.playAudio('hello-world');
      report = { first: first?.env.context, away, back, now: call.agi?.path, played: played.successful, seen, state: call.state, same: t.runtime.call('1.1') === call };
    });
    try {
      const one = (await t.session('relay/unit', '1.1')).respond(standard);
      await within(redirect, WAIT_MS, 'the Redirect');
      assert.deepEqual(ami.actions.slice(0, 2), [
        { name: 'Setvar', fields: { Channel: 'Local/1.1@unit;1', Variable: 'RELAY_OWNER', Value: 'agi://127.0.0.1:4573' } },
        { name: 'Redirect', fields: { Channel: 'Local/1.1@unit;1', Context: 'relay-resume', Exten: 's', Priority: 1 } },
      ]);
      one.hangup();
      await within(one.closed, WAIT_MS, 'the first session to be ended by agikit');
      assert.equal(one.commands.some((c) => c.words[0] === 'GET'), false, 'no probe after a Redirect of our own');
      const two = (await t.session('relay/resume', '1.1', { context: 'relay-resume', extension: 's', priority: '1' })).respond((command) => {
        // Played to its end: no endpos.
        if (command.words[0] === 'CONTROL' && command.words[1] === 'STREAM') return '200 result=0';
        return standard(command);
      });
      await within(two.closed, WAIT_MS, 'the resumed session to end once the application is done');
      assert.deepEqual(report, { first: 'agikit-app', away: null, back: true, now: '/relay/resume', played: true, seen: [], state: 'answered', same: true });
      assert.deepEqual(t.failures, []);
    } finally {
      await t.close();
    }
  });

  it('leaveAgi() to a context of the user\'s writes RELAY_OWNER too (it may end in Goto(relay-resume,s,1))', async () => {
    const ami = new FakeAmi();
    const redirect = redirectSent(ami);
    const t = await relayServer({ ami: ami.client }, async (call) => {
      await call.leaveAgi({ context: 'fax-receive', exten: 's' });
    });
    try {
      const one = (await t.session('relay/unit', '1.2')).respond(standard);
      await within(redirect, WAIT_MS, 'the Redirect');
      assert.deepEqual(ami.actions.slice(0, 2), [
        { name: 'Setvar', fields: { Channel: 'Local/1.2@unit;1', Variable: 'RELAY_OWNER', Value: 'agi://127.0.0.1:4573' } },
        { name: 'Redirect', fields: { Channel: 'Local/1.2@unit;1', Context: 'fax-receive', Exten: 's', Priority: 1 } },
      ]);
      one.hangup();
      await within(one.closed, WAIT_MS, 'the session to be ended by agikit');
      assert.deepEqual(t.failures, []);
    } finally {
      await t.close();
    }
  });

  it('a HANGUP not of our making: the dead session tells where the channel is (moved into [relay-resume]: expected back; not moved: ended with HANGUPCAUSE)', async () => {
    const outcomes = new Map<string, { seen: string[]; back?: boolean; reason?: string | null }>();
    const t = await relayServer({}, async (call) => {
      const entry = { seen: watch(call) } as { seen: string[]; back?: boolean; reason?: string | null };
      outcomes.set(call.id, entry);
      await call.waitFor('ending').then(async (ending) => {
        if (!ending) return;
        await call.waitForEnded();
        entry.reason = call.hangupReason;
      });
    });
    const probeReply = (value: string) => (command: ReceivedCommand) =>
      command.words.slice(0, 3).join(' ') === 'GET FULL VARIABLE' ? `200 result=1 (${value})` : standard(command);
    try {
      // Moved into [relay-resume] (a fax-detect goto): no ending, and the resume attaches.
      const moved = (await t.session('relay/unit', '2.1')).respond(probeReply('relay-resume|fax|1|0'));
      await until(() => outcomes.has('2.1'), 'the application to start');
      moved.hangup();
      await within(moved.closed, WAIT_MS, 'the moved session to end');
      const call = t.runtime.call('2.1');
      assert.ok(call, 'the call is still held');
      const back = call.reattached();
      const resumed = (await t.session('relay/resume', '2.1', { context: 'relay-resume', extension: 's', priority: '1' })).respond(probeReply('relay-resume|s|1|16'));
      assert.equal(await within(back, WAIT_MS, 'the call to come back'), true);
      assert.deepEqual(outcomes.get('2.1')?.seen, []);
      // Then a real hangup on the resumed session: not moved.
      resumed.hangup();
      await within(resumed.closed, WAIT_MS, 'the resumed session to end');
      assert.deepEqual(outcomes.get('2.1'), { seen: ['ending', 'ended'], reason: 'hangup' });
      // A hangup where the session ran, cause 17.
      const hung = (await t.session('relay/unit', '2.2')).respond(probeReply('agikit-app|100|4|17'));
      await until(() => outcomes.has('2.2'), 'the application to start');
      hung.hangup();
      await within(hung.closed, WAIT_MS, 'the hung-up session to end');
      assert.deepEqual(outcomes.get('2.2'), { seen: ['ending', 'ended'], reason: 'busy' });
    } finally {
      await t.close();
    }
  });

  it('a resume for a call this process does not hold is ended at once; without AMI a call that does not come back in time counts as ended (error)', async () => {
    const results: Array<Record<string, unknown>> = [];
    const t = await relayServer({ resumeTimeoutMs: 200 }, async (call) => {
      await call.waitForEnded();
      results.push({ reason: call.hangupReason, agi: call.agi });
    });
    try {
      const stranger = (await t.session('relay/resume', '9.9')).respond(standard);
      await within(stranger.closed, WAIT_MS, 'a stranger session to be ended');
      assert.equal(stranger.commands.filter((c) => !isStatusWrite(c.words)).length, 0, 'nothing was run on it');
      const gone = (await t.session('relay/unit', '3.1')).respond((command) =>
        command.words.slice(0, 3).join(' ') === 'GET FULL VARIABLE' ? '200 result=1 (relay-resume|s|1|0)' : standard(command),
      );
      await until(() => t.runtime.call('3.1') !== undefined, 'the call to be held');
      gone.hangup();
      await until(() => results.length === 1, 'the lost call to end', WAIT_MS);
      assert.deepEqual(results, [{ reason: 'error', agi: null }]);
    } finally {
      await t.close();
    }
  });
});

describe('Helper channels without Asterisk', () => {
  it('need AMI and a FastAGI address; an Originate Asterisk refuses is a RelayError, and the helper is hung up', async () => {
    const ami = new FakeAmi();
    /** A runtime with an answered call known through AMI. */
    const target = (options: RelayOptions): { runtime: RelayRuntime; call: Call } => {
      const runtime = new RelayRuntime({ log: quiet, ami: ami.client, ...options });
      const call = runtime.trackCall({ id: 't1', context: 'c', fromNumber: '', toNumber: '' });
      call.advance('answered');
      return { runtime, call };
    };
    const noOwner = target({});
    await assert.rejects(noOwner.runtime.helperChannel(noOwner.call), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'agi-server');
    const placed = target({ owner: 'agi://127.0.0.1:4573' });
    ami.originateResult = { success: false, reason: 5 };
    await assert.rejects(placed.runtime.helperChannel(placed.call), (e: unknown) => e instanceof RelayError && /Originate reason 5/.test(e.message));
    const originate = ami.actions.find((a) => a.name === 'Originate');
    const id = originate?.fields['ChannelId'];
    assert.deepEqual(originate?.fields, { Channel: 'Local/s@relay-helper-spy/n', ChannelId: id, RELAY_TARGET: 't1', RELAY_OWNER: 'agi://127.0.0.1:4573', RELAY_HELPER: id });
    assert.deepEqual(ami.actions.at(-1), { name: 'Hangup', fields: { Channel: id } });
    assert.equal(placed.runtime.helpers.placing, 0);
    const plain = new RelayRuntime({ log: quiet, owner: 'agi://127.0.0.1:4573' });
    await assert.rejects(plain.helperChannel({ active: true } as Call), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'ami');
  });

  it('a /relay/helper session nobody waits for is ended at once', async () => {
    const t = await relayServer({}, async () => undefined);
    try {
      const stray = (await t.session('relay/helper', 'h-unknown')).respond(standard);
      await within(stray.closed, WAIT_MS, 'the stray helper session to be ended');
      assert.equal(stray.commands.filter((c) => !isStatusWrite(c.words)).length, 0);
    } finally {
      await t.close();
    }
  });
});
