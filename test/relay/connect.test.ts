/**
 * connect: the device list (shapes, defaults, refusals), how groups become `Dial()` arguments, how a
 * `DialBegin` names its device, `DIALSTATUS`; and the component over a fake AGI session and a fake
 * AMI: serial groups until one answers, the remote leg from `DialBegin`/`DialEnd` (an AMI-only Call
 * that refuses what needs its own AGI), the events in order, `stop()` before an answer, the subset
 * without AMI, and the capability errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import type { AmiClient } from '../../src/ami/client.js';
import { AmiMessage } from '../../src/ami/message.js';
import { Call } from '../../src/relay/call.js';
import {
  DEFAULT_DEVICE_TIMEOUT,
  defaultDeviceResolver,
  deviceOfDialBegin,
  dialGroups,
  dialOutcome,
  parseDevices,
  type DeviceList,
} from '../../src/relay/devices.js';
import { CallNotControllableError, RelayArgumentError, RelayCapabilityError } from '../../src/relay/errors.js';
import { RelayRuntime } from '../../src/relay/runtime.js';
import { within } from '../support/settle.js';

const LOCAL = (n: string): string => `Local/${n}@relay-outbound/n`;

describe('connect: device lists', () => {
  it('a flat list is serial, a nested array a parallel group; the SDK shape and the shorthand; the default timeout', () => {
    const groups = parseDevices([
      { toNumber: '100' },
      [
        { type: 'phone', params: { toNumber: '200', fromNumber: '+15550001', timeout: 10 } },
        { toNumber: '300', timeout: 44.5 },
      ],
      { type: 'phone', toNumber: 'alice' },
    ]);
    assert.deepEqual(
      groups.map((group) => group.map((d) => [d.toNumber, d.fromNumber, d.timeout])),
      [[['100', undefined, DEFAULT_DEVICE_TIMEOUT]], [['200', '+15550001', 10], ['300', undefined, 44.5]], [['alice', undefined, DEFAULT_DEVICE_TIMEOUT]]],
    );
  });

  it('refuses what it cannot dial, naming the device', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /empty/],
      [[[]], /devices\[0\] is an empty group/],
      [[[[{ toNumber: '1' }]]], /do not nest/],
      [[{ type: 'sip', params: { toNumber: '1' } }], /only 'phone'/],
      [[{ params: {} }], /devices\[0\]\.toNumber/],
      [[{ toNumber: '1&2' }], /toNumber/],
      [[{ toNumber: '1,2' }], /toNumber/],
      [[{ toNumber: '' }], /toNumber/],
      [[{ toNumber: '1', fromNumber: 'a)b' }], /fromNumber/],
      [[{ toNumber: '1', timeout: 0 }], /timeout/],
      [[{ toNumber: '1', timeout: '5' }], /timeout/],
      [[{ toNumber: '1', timeout: 3601 }], /devices\[0\]\.timeout must be seconds above 0 and at most 3600, not 3601/],
      [[null], /not a device/],
      [[{ type: 'phone' }], /params is missing|toNumber/],
    ];
    for (const [list, message] of bad) assert.throws(() => parseDevices(list as DeviceList), (error: unknown) => error instanceof RelayArgumentError && message.test(error.message), JSON.stringify(list));
  });

  it("each group is one Dial: & between devices, the group's longest timeout, g, b(relay-predial) with the group's fromNumber", () => {
    const groups = dialGroups(parseDevices([{ toNumber: '100', timeout: 5 }, [{ toNumber: '200', fromNumber: '+1555' }, { toNumber: '300', timeout: 44.5, fromNumber: '+1555' }]]), defaultDeviceResolver);
    assert.deepEqual(
      groups.map((g) => g.dialArguments),
      [
        [LOCAL('100'), '5', 'g'],
        [`${LOCAL('200')}&${LOCAL('300')}`, '45', 'gb(relay-predial^s^1(+1555))'],
      ],
    );
    const pjsip = dialGroups(parseDevices([{ toNumber: '+15551234' }]), (d) => `PJSIP/${d.toNumber}@trunk`);
    assert.deepEqual(pjsip[0]?.dialStrings, ['PJSIP/+15551234@trunk']);
  });

  it('refuses a group with two fromNumbers, and dial strings Dial would misread', () => {
    assert.throws(() => dialGroups(parseDevices([[{ toNumber: '1', fromNumber: 'a' }, { toNumber: '2', fromNumber: 'b' }]]), defaultDeviceResolver), /several fromNumbers/);
    for (const made of ['PJSIP/1,2', 'PJSIP/1&PJSIP/2', 'no-tech', 'PJSIP/a b', 'PJSIP/(x)']) {
      assert.throws(() => dialGroups(parseDevices([{ toNumber: '1' }]), () => made), (error: unknown) => error instanceof RelayArgumentError && error.message.includes(JSON.stringify(made)));
    }
  });

  it("a DialBegin's DestChannel technology and DialString name the device; one already matched is skipped", () => {
    const [group] = dialGroups(parseDevices([[{ toNumber: '200' }, { toNumber: '200' }, { toNumber: '300' }]]), defaultDeviceResolver);
    assert.ok(group);
    assert.equal(deviceOfDialBegin(group, 'Local/300@relay-outbound-00000004;1', '300@relay-outbound/n', new Set()), 2);
    assert.equal(deviceOfDialBegin(group, 'Local/200@relay-outbound-00000002;1', '200@relay-outbound/n', new Set([0])), 1);
    assert.equal(deviceOfDialBegin(group, 'PJSIP/trunk-00000001', '300@relay-outbound/n', new Set()), undefined);
  });

  it('DIALSTATUS values', () => {
    assert.deepEqual(
      ['ANSWER', 'BUSY', 'NOANSWER', 'CANCEL', 'CHANUNAVAIL', 'CONGESTION', ''].map(dialOutcome),
      ['answered', 'busy', 'noAnswer', 'canceled', 'failed', 'failed', 'failed'],
    );
  });
});

// -------------------------------------------------------------------------------------------------
// The component over fakes

/** A fake AMI: records actions, delivers events to channel subscriptions; Hangup ends the channel (a Hangup event). */
class FakeAmi {
  readonly actions: string[] = [];
  private readonly listeners = new Map<string, Set<(event: AmiMessage) => void>>();
  connected = true;

  channel(id: string, listener: (event: AmiMessage) => void): { id: string; active: boolean; unsubscribe(): void } {
    const set = this.listeners.get(id) ?? new Set();
    this.listeners.set(id, set.add(listener));
    return { id, active: true, unsubscribe: () => set.delete(listener) };
  }

  emit(fields: Record<string, string>): void {
    const event = new AmiMessage(Object.entries(fields));
    const ids = new Set([fields['Uniqueid'], fields['DestUniqueid']]);
    for (const id of ids) for (const listener of [...(this.listeners.get(id ?? '') ?? [])]) listener(event);
  }

  async action(name: string, fields: Record<string, string | number | undefined> = {}): Promise<AmiMessage> {
    this.actions.push(`${name}:${String(fields['Channel'])}`);
    if (name === 'Hangup') {
      const id = String(fields['Channel']).replace(/^Local\/(\w+)@.*$/, 'leg-$1');
      queueMicrotask(() => this.emit({ Event: 'Hangup', Uniqueid: id, Cause: String(fields['Cause'] ?? 16) }));
    }
    return new AmiMessage([['Response', 'Success']]);
  }

  get client(): AmiClient {
    return this as unknown as AmiClient;
  }
}

/** What a fake `Dial` does: given the group's dial strings, it resolves with `DIALSTATUS`. */
type DialScript = (dialStrings: string[]) => Promise<string>;

/** A fake AGI session whose `EXEC Dial` runs the next script. */
function fakeAgi(scripts: DialScript[], execs: string[]): Agi {
  let dialStatus = '';
  return {
    env: { channel: 'Local/caller;1', uniqueid: 'caller' },
    closed: false,
    onHangup: () => undefined,
    exec: async (application: string, ...args: unknown[]) => {
      const strings = args.filter((a): a is string => typeof a === 'string');
      execs.push(`${application}(${strings.join(',')})`);
      const script = scripts.shift();
      assert.ok(script, 'a Dial too many');
      dialStatus = await script(strings[0]?.split('&') ?? []);
      return 0;
    },
    getVariable: async (name: string) => (name === 'DIALSTATUS' ? dialStatus : undefined),
  } as unknown as Agi;
}

function fakeCall(agi: Agi, ami?: FakeAmi): Call {
  const runtime = new RelayRuntime(ami ? { ami: ami.client } : {});
  const call = new Call(runtime, { id: 'caller', context: 'c', fromNumber: '+1000', toNumber: '42', channel: 'Local/caller;1' });
  call.attach(agi);
  call.advance('answered');
  return call;
}

function connectEvents(call: Call): string[] {
  const seen: string[] = [];
  for (const name of ['connect.connecting', 'connect.connected', 'connect.failed', 'connect.disconnected'] as const) call.on(name, (action) => seen.push(`${name}:${action.state}`));
  return seen;
}

/** The AMI events `Dial` publishes for a leg: DialBegin, then (later) DialEnd with `status`. */
function dialBegin(ami: FakeAmi, n: string): void {
  ami.emit({ Event: 'DialBegin', Uniqueid: 'caller', DestUniqueid: `leg-${n}`, DestChannel: `Local/${n}@relay-outbound-0001;1`, DialString: `${n}@relay-outbound/n` });
}
function dialEnd(ami: FakeAmi, n: string, status: string): void {
  ami.emit({ Event: 'DialEnd', Uniqueid: 'caller', DestUniqueid: `leg-${n}`, DestChannel: `Local/${n}@relay-outbound-0001;1`, DialStatus: status });
}

describe('connect over a fake AGI session and AMI', () => {
  it('serial groups until one answers; resolves at DialEnd ANSWER with the remote leg (an AMI-only Call) while Dial still runs; disconnected when Dial returns', async () => {
    const ami = new FakeAmi();
    const execs: string[] = [];
    let endBridge!: () => void;
    const bridge = new Promise<void>((resolve) => (endBridge = resolve));
    const agi = fakeAgi(
      [
        async () => {
          dialBegin(ami, '100');
          dialEnd(ami, '100', 'BUSY');
          return 'BUSY';
        },
        async () => {
          dialBegin(ami, '200');
          dialBegin(ami, '300');
          dialEnd(ami, '200', 'CANCEL');
          dialEnd(ami, '300', 'ANSWER');
          await bridge;
          return 'ANSWER';
        },
      ],
      execs,
    );
    const call = fakeCall(agi, ami);
    const events = connectEvents(call);
    const result = await within(call.connect([{ toNumber: '100' }, [{ toNumber: '200' }, { toNumber: '300', fromNumber: '+1999' }]]), 2000, 'connected');
    assert.equal(result.successful, true);
    assert.equal(result.device?.toNumber, '300');
    const remote = result.call;
    assert.ok(remote);
    assert.deepEqual([remote.id, remote.toNumber, remote.fromNumber, remote.channel, remote.state, remote.agi], ['leg-300', '300', '+1999', 'Local/300@relay-outbound-0001;1', 'answered', null]);
    assert.equal(call.runtime.call('leg-300'), remote, 'the remote leg is tracked');
    assert.deepEqual(execs, [`Dial(${LOCAL('100')},30,g)`, `Dial(${LOCAL('200')}&${LOCAL('300')},30,gb(relay-predial^s^1(+1999)))`]);
    assert.deepEqual(events, ['connect.connecting:connecting', 'connect.connected:connected']);
    // The remote leg has no AGI of its own: methods that need it are refused with the typed error.
    for (const attempt of [() => remote.playAudio('beep'), () => remote.answer(), () => remote.connect([{ toNumber: '1' }]), () => remote.promptAudio({ url: 'beep', promptType: 'digits', digitsMax: 1 })]) {
      await assert.rejects(attempt(), (error: unknown) => error instanceof CallNotControllableError && error.why === 'no-agi');
    }
    assert.equal(call.lane.holder !== undefined, true, "the caller's lane is held while bridged");
    const ended = remote.waitForEnded();
    ami.emit({ Event: 'Hangup', Uniqueid: 'leg-300', Cause: '16' });
    assert.equal(await ended, true);
    assert.equal(remote.hangupReason, 'hangup');
    endBridge();
    await within(
      new Promise<void>((resolve) => call.once('connect.disconnected', () => resolve())),
      2000,
      'disconnected',
    );
    assert.deepEqual(events, ['connect.connecting:connecting', 'connect.connected:connected', 'connect.disconnected:disconnected']);
    await within(call.lane.idle(), 2000, 'the lane free again');
  });

  it('stop() once connected (also what preempt does) hangs the remote leg up and resolves when Dial has returned', async () => {
    const ami = new FakeAmi();
    const call = fakeCall(
      fakeAgi(
        [
          async () => {
            dialBegin(ami, '100');
            dialEnd(ami, '100', 'ANSWER');
            await call.runtime.call('leg-100')!.waitForEnded();
            return 'ANSWER';
          },
        ],
        [],
      ),
      ami,
    );
    const events = connectEvents(call);
    const action = await call.connectAsync([{ toNumber: '100' }]);
    const result = await within(action.done, 2000, 'connected');
    assert.equal(result.call?.id, 'leg-100');
    assert.deepEqual(await within(action.stop(), 2000, 'stop'), { successful: true });
    assert.deepEqual(ami.actions, ['Hangup:Local/100@relay-outbound-0001;1']);
    assert.deepEqual([result.call?.ended, action.state, call.lane.holder], [true, 'disconnected', undefined]);
    assert.deepEqual(events, ['connect.connecting:connecting', 'connect.connected:connected', 'connect.disconnected:disconnected']);
    assert.deepEqual(await action.stop(), { successful: true }, 'a second stop has nothing left to do');
    assert.equal(ami.actions.length, 1);
  });

  it('a bridge over before its DialEnd ANSWER came (AMI sends it through Stasis): still connected, with the remote leg', async () => {
    const ami = new FakeAmi();
    const agi = fakeAgi(
      [
        async () => {
          dialBegin(ami, '100');
          setTimeout(() => dialEnd(ami, '100', 'ANSWER'), 50);
          return 'ANSWER';
        },
      ],
      [],
    );
    const call = fakeCall(agi, ami);
    const result = await within(call.connect([{ toNumber: '100' }]), 3000, 'connect');
    assert.deepEqual([result.successful, result.call?.id, result.device?.toNumber, result.dialStatus], [true, 'leg-100', '100', 'ANSWER']);
    assert.equal(result.call?.answered, true);
  });

  it('no group answers: failed with the last DIALSTATUS', async () => {
    const ami = new FakeAmi();
    const call = fakeCall(fakeAgi([async () => 'BUSY', async () => 'NOANSWER'], []), ami);
    const events = connectEvents(call);
    const result = await call.connect([{ toNumber: '1' }, { toNumber: '2' }]);
    assert.deepEqual([result.successful, result.call, result.device, result.dialStatus], [false, null, null, 'NOANSWER']);
    assert.deepEqual(events, ['connect.connecting:connecting', 'connect.failed:failed']);
  });

  it('stop() while ringing hangs the ringing legs up over AMI, tries no further group, ends disconnected', async () => {
    const ami = new FakeAmi();
    const execs: string[] = [];
    const call = fakeCall(
      fakeAgi(
        [
          async () => {
            dialBegin(ami, '100');
            // Dial returns once its only leg is gone.
            await call.runtime.call('leg-100')!.waitForEnded();
            return 'NOANSWER';
          },
        ],
        execs,
      ),
      ami,
    );
    const events = connectEvents(call);
    const action = await call.connectAsync([{ toNumber: '100' }, { toNumber: '200' }]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await within(action.stop(), 2000, 'stop'), { successful: true });
    assert.deepEqual([action.completed, action.result?.successful, action.state], [true, false, 'disconnected']);
    assert.deepEqual(ami.actions, ['Hangup:Local/100@relay-outbound-0001;1']);
    assert.equal(execs.length, 1, 'the second device was not dialled');
    assert.deepEqual(events, ['connect.connecting:connecting', 'connect.disconnected:disconnected']);
  });

  it('without AMI: Dial in the lane; known once Dial returns, with no remote Call; stop, signal and disconnect need AMI', async () => {
    const call = fakeCall(fakeAgi([async () => 'ANSWER'], []));
    const events = connectEvents(call);
    const result = await call.connect([{ toNumber: '1' }]);
    assert.deepEqual([result.successful, result.call, result.dialStatus], [true, null, 'ANSWER']);
    await within(new Promise<void>((resolve) => (events.length === 3 ? resolve() : call.once('connect.disconnected', () => resolve()))), 2000, 'disconnected');
    assert.deepEqual(events, ['connect.connecting:connecting', 'connect.connected:connected', 'connect.disconnected:disconnected']);
    await assert.rejects(call.connect([{ toNumber: '1' }], { signal: new AbortController().signal }), (error: unknown) => error instanceof RelayCapabilityError && error.capability === 'ami');
    await assert.rejects(call.disconnect(), (error: unknown) => error instanceof RelayCapabilityError && error.capability === 'ami');
    const pending = fakeCall(fakeAgi([() => new Promise<string>(() => undefined)], []));
    const action = await pending.connectAsync([{ toNumber: '1' }]);
    await assert.rejects(action.stop(), (error: unknown) => error instanceof RelayCapabilityError && error.method === 'ConnectAction.stop');
  });

  it('disconnect() with nothing connected is unsuccessful; a bad list is refused before anything is dialled', async () => {
    const ami = new FakeAmi();
    const execs: string[] = [];
    const call = fakeCall(fakeAgi([], execs), ami);
    call.runtime.setOwner('agi://127.0.0.1:4573');
    assert.deepEqual(await call.disconnect(), { successful: false });
    await assert.rejects(call.connect([]), RelayArgumentError);
    await assert.rejects(call.connect([{ toNumber: 'a b' }]), RelayArgumentError);
    assert.deepEqual(execs, []);
  });
});
