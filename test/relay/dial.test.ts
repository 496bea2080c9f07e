import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Call } from '../../src/relay/call.js';
import { Client } from '../../src/relay/client.js';
import { dialDevice, unansweredReason, type DialResult } from '../../src/relay/dial.js';
import { defaultDeviceResolver } from '../../src/relay/devices.js';
import { RelayArgumentError, RelayCapabilityError, RelayError } from '../../src/relay/errors.js';
import { RelayRuntime } from '../../src/relay/runtime.js';
import { AmiMessage } from '../../src/ami/message.js';
import type { AmiClient } from '../../src/ami/client.js';
import type { AmiOriginateOptions, AmiOriginateResult } from '../../src/ami/originate.js';

/** Just what dialing uses of an AMI client: channel subscriptions, and an Originate the test settles. */
class DialAmi {
  readonly originates: AmiOriginateOptions[] = [];
  private readonly listeners = new Map<string, (event: AmiMessage) => void>();
  settle: (outcome: { response: string; reason: number } | Error) => void = () => undefined;
  connected = true;

  channel(id: string, listener: (event: AmiMessage) => void): { id: string; active: boolean; unsubscribe(): void } {
    this.listeners.set(id, listener);
    return { id, active: true, unsubscribe: () => this.listeners.delete(id) };
  }

  emit(id: string, fields: Record<string, string>): void {
    this.listeners.get(id)?.(new AmiMessage(Object.entries({ ...fields, Uniqueid: id })));
  }

  originate(options: AmiOriginateOptions): Promise<AmiOriginateResult> {
    this.originates.push(options);
    return new Promise((resolve, reject) => {
      this.settle = (outcome) => {
        if (outcome instanceof Error) return reject(outcome);
        const event = new AmiMessage(Object.entries({ Response: outcome.response, Reason: String(outcome.reason) }));
        resolve({ success: outcome.response === 'Success', reason: outcome.reason, uniqueid: options.channelId, channel: options.channel, response: event, event });
      };
    });
  }

  get client(): AmiClient {
    return this as unknown as AmiClient;
  }
}

const quiet = pino({ level: 'silent' });

/** A runtime over `ami` that knows its FastAGI address. */
function dialRuntime(ami: DialAmi): RelayRuntime {
  return new RelayRuntime({ log: quiet, ami: ami.client, owner: 'agi://127.0.0.1:4573' });
}

/** A new call to 100, dialed: its Originate is sent and waits for `ami.settle`. `before` runs before `dial()` (listeners). */
async function startDial(runtime: RelayRuntime, before: (call: Call) => void = () => undefined): Promise<{ call: Call; dialing: Promise<DialResult> }> {
  const call = Client.over(runtime, { project: 'p', token: 't' }).calling.newCall({ toNumber: '100' });
  before(call);
  const dialing = call.dial();
  await new Promise((resolve) => setImmediate(resolve));
  return { call, dialing };
}

describe('Relay dial: parameters, device resolver, Originate outcome', () => {
  it('dialDevice() reads the seed shape and the JS SDK names, with a 30 s default timeout', () => {
    assert.deepEqual(dialDevice({ type: 'phone', toNumber: '+15551234', fromNumber: '+15550000', timeout: 12 }), { type: 'phone', toNumber: '+15551234', fromNumber: '+15550000', timeout: 12 });
    assert.deepEqual(dialDevice({ to: '100', from: 'alice' }), { type: 'phone', toNumber: '100', fromNumber: 'alice', timeout: 30 });
    assert.deepEqual(dialDevice({ toNumber: '100' }).fromNumber, '');
    // The same number rule as a connect() device: a SIP-style user with ':' dials too.
    assert.deepEqual(dialDevice({ toNumber: 'sip:alice', fromNumber: '', timeout: 3600 }), { type: 'phone', toNumber: 'sip:alice', fromNumber: '', timeout: 3600 });
  });

  it('dialDevice() refuses what cannot be dialed, with RelayArgumentError naming it', () => {
    for (const params of [{}, { toNumber: '' }, { toNumber: '1 2' }, { toNumber: 'a/b' }, { toNumber: '1,2' }, { toNumber: '1', fromNumber: 'x"y' }, { toNumber: '1', timeout: 0 }, { toNumber: '1', timeout: Number.NaN }, { toNumber: '1', timeout: 4000 }, { toNumber: '1', type: 'sip' as 'phone' }]) {
      assert.throws(() => dialDevice(params), RelayArgumentError, JSON.stringify(params));
    }
    assert.throws(() => dialDevice(null as never), RelayArgumentError);
  });

  it('the default resolver dials Local/<to>@relay-outbound/n; a runtime takes its own', () => {
    const device = dialDevice({ toNumber: '+15551234' });
    assert.equal(defaultDeviceResolver(device), 'Local/+15551234@relay-outbound/n');
    assert.equal(new RelayRuntime({ log: quiet }).resolveDevice(device), 'Local/+15551234@relay-outbound/n');
    assert.equal(new RelayRuntime({ log: quiet, resolveDevice: (d) => `PJSIP/${d.toNumber}@trunk` }).resolveDevice(device), 'PJSIP/+15551234@trunk');
  });

  it('unansweredReason(): Originate reasons 5 busy, 3 noAnswer, others error unless the Hangup cause names a refusal', () => {
    assert.deepEqual([5, 3, 8, 1, 0].map((reason) => unansweredReason(reason)), ['busy', 'noAnswer', 'error', 'error', 'error']);
    assert.deepEqual([21, 17, 19, 16, 0, null, undefined].map((cause) => unansweredReason(0, cause)), ['decline', 'busy', 'noAnswer', 'error', 'error', 'error', 'error']);
  });

  it('newCall() makes an outbound call with a new UUID that is not placed or held; dial() needs AMI; an inbound call cannot be dialed', async () => {
    const runtime = new RelayRuntime({ log: quiet });
    const client = Client.over(runtime, { project: 'acme', token: 't' });
    const a = client.calling.newCall({ toNumber: '100', timeout: 5 });
    const b = client.calling.newCall({ toNumber: '100' });
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.id, b.id);
    assert.deepEqual([a.direction, a.state, a.timeout, runtime.size], ['outbound', 'none', 5, 0]);
    await assert.rejects(a.dial(), RelayCapabilityError);
    await assert.rejects(client.calling.dial({ toNumber: '' }), RelayArgumentError);
    const inbound = new Call(runtime, { id: 'x', context: 'c', fromNumber: '', toNumber: '' });
    await assert.rejects(inbound.dial(), (error: unknown) => error instanceof RelayError && !(error instanceof RelayCapabilityError));
  });

  it('the Originate: the resolved device into s@relay-dial with ChannelId = the call id, its timeout, caller id and RELAY_OWNER', async () => {
    const ami = new DialAmi();
    const runtime = new RelayRuntime({ log: quiet, ami: ami.client, owner: 'agi://10.0.0.5:4573', resolveDevice: (d) => `PJSIP/${d.toNumber}@trunk` });
    const call = Client.over(runtime, { project: 'p', token: 't' }).calling.newCall({ toNumber: '+15551234', fromNumber: '+15550000', timeout: 7 });
    const dialing = call.dial();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(ami.originates, [
      { channel: 'PJSIP/+15551234@trunk', context: 'relay-dial', exten: 's', priority: 1, channelId: call.id, timeoutMs: 7000, callerId: '<+15550000>', variables: { RELAY_OWNER: 'agi://10.0.0.5:4573' } },
    ]);
    assert.equal(runtime.call(call.id), call, 'held (and followed) before the Originate');
    ami.settle({ response: 'Failure', reason: 5 });
    const result = await dialing;
    assert.deepEqual([result.successful, result.event, call.hangupReason, call.busy], [false, { name: 'originate.response', payload: { response: 'Failure', reason: 5 } }, 'busy', true]);
  });

  it("a Hangup seen while dialing waits for the Originate's outcome, whose reason (with that cause) names why", async () => {
    const ami = new DialAmi();
    const runtime = dialRuntime(ami);
    const seen: string[] = [];
    const { call, dialing } = await startDial(runtime, (c) => c.on('stateChange', (state) => seen.push(state)));
    ami.emit(call.id, { Event: 'Newchannel' });
    ami.emit(call.id, { Event: 'Hangup', Cause: '21' });
    assert.deepEqual([call.state, seen], ['created', ['created']], 'not ended before the Originate says why');
    ami.settle({ response: 'Failure', reason: 0 });
    const result = await dialing;
    assert.deepEqual([result.successful, call.state, call.hangupReason, call.failed, seen], [false, 'ended', 'decline', true, ['created', 'ending', 'ended']]);
    assert.equal(runtime.call(call.id), undefined);
  });

  it('an Originate answered before the Hangup event (AMI sends channel events through Stasis) waits for it: its cause still names why', async () => {
    const ami = new DialAmi();
    const runtime = dialRuntime(ami);
    const reasons: string[] = [];
    for (const [newchannel, cause] of [[true, '21'], [false, '17']] as const) {
      const { call, dialing } = await startDial(runtime);
      if (newchannel) ami.emit(call.id, { Event: 'Newchannel' });
      ami.settle({ response: 'Failure', reason: 1 });
      setTimeout(() => ami.emit(call.id, { Event: 'Hangup', Cause: cause }), 100);
      const result = await dialing;
      assert.deepEqual([result.successful, call.state], [false, 'ended']);
      reasons.push(call.hangupReason ?? 'none');
    }
    assert.deepEqual(reasons, ['decline', 'busy']);
  });

  it('an unanswered Originate whose channel never reports a Hangup ends after a short wait, reason error', async () => {
    const ami = new DialAmi();
    const { call, dialing } = await startDial(dialRuntime(ami));
    ami.settle({ response: 'Failure', reason: 0 });
    const result = await dialing;
    assert.deepEqual([result.successful, call.state, call.hangupReason, call.failed], [false, 'ended', 'error', true]);
  });

  it('an Originate AMI could not carry (connection lost) ends the call: unsuccessful, reason error, no event', async () => {
    const ami = new DialAmi();
    const { call, dialing } = await startDial(dialRuntime(ami));
    ami.settle(new Error('AMI connection lost'));
    const result = await dialing;
    assert.deepEqual([result.successful, result.event, call.state, call.hangupReason, call.failed], [false, null, 'ended', 'error', true]);
  });
});
