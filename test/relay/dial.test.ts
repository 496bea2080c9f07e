import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Call } from '../../src/relay/call.js';
import { Client } from '../../src/relay/client.js';
import { defaultResolveDevice, dialDevice, unansweredReason } from '../../src/relay/dial.js';
import { RelayArgumentError, RelayCapabilityError, RelayError } from '../../src/relay/errors.js';
import { RelayRuntime } from '../../src/relay/runtime.js';

const quiet = pino({ level: 'silent' });

describe('Relay dial: parameters, device resolver, Originate outcome', () => {
  it('dialDevice() reads the seed shape and the JS SDK names, with a 30 s default timeout', () => {
    assert.deepEqual(dialDevice({ type: 'phone', toNumber: '+15551234', fromNumber: '+15550000', timeout: 12 }), { type: 'phone', toNumber: '+15551234', fromNumber: '+15550000', timeout: 12 });
    assert.deepEqual(dialDevice({ to: '100', from: 'alice' }), { type: 'phone', toNumber: '100', fromNumber: 'alice', timeout: 30 });
    assert.deepEqual(dialDevice({ toNumber: '100' }).fromNumber, '');
  });

  it('dialDevice() refuses what cannot be dialed, with RelayArgumentError naming it', () => {
    for (const params of [{}, { toNumber: '' }, { toNumber: '1 2' }, { toNumber: 'a/b' }, { toNumber: '1,2' }, { toNumber: '1', fromNumber: 'x"y' }, { toNumber: '1', timeout: 0 }, { toNumber: '1', timeout: Number.NaN }, { toNumber: '1', timeout: 4000 }, { toNumber: '1', type: 'sip' as 'phone' }]) {
      assert.throws(() => dialDevice(params), RelayArgumentError, JSON.stringify(params));
    }
    assert.throws(() => dialDevice(null as never), RelayArgumentError);
  });

  it('the default resolver dials Local/<to>@relay-outbound; a runtime takes its own', () => {
    const device = dialDevice({ toNumber: '+15551234' });
    assert.equal(defaultResolveDevice(device), 'Local/+15551234@relay-outbound');
    assert.equal(new RelayRuntime({ log: quiet }).resolveDevice(device), 'Local/+15551234@relay-outbound');
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
});
