/**
 * tap: the pure parts (parameter checking and the choices that follow, RTP and AudioSocket framing,
 * framing into ptimes, decimation, pacing) and the component over a fake AMI: the spy channel's
 * originate, ChanSpyStart, stop() hanging it up, refusals before anything starts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createSocket } from 'node:dgram';
import { closeSync, constants, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, it, mock } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AmiClient } from '../../src/ami/client.js';
import { AmiMessage } from '../../src/ami/message.js';
import { Call } from '../../src/relay/call.js';
import { RelayArgumentError, RelayCapabilityError } from '../../src/relay/errors.js';
import { AudioSocketKind, AudioSocketReader, AudioSocketServer, encodeAudioSocketFrame, uuidOfPayload } from '../../src/relay/audiosocket.js';
import { decodeRtp, encodeRtp } from '../../src/relay/rtp.js';
import { RelayRuntime } from '../../src/relay/runtime.js';
import { Decimator, Framer, Pacer, PACER_GAP_MS, S16leReader, type TapSink } from '../../src/relay/tap-media.js';
import { chanSpyOptions, checkTapParams, destinationDevice, tapMechanism, type TapParams } from '../../src/relay/tap-params.js';
import { nextEvent, until, WAIT_MS, within } from '../support/settle.js';

const RTP: TapParams = { audioDirection: 'speak', targetType: 'rtp', targetAddr: '127.0.0.1', targetPort: 40000 };

describe('tap parameters', () => {
  it('checks them and picks the mechanism, ChanSpy options and devices', () => {
    const speak = checkTapParams(RTP);
    assert.deepEqual(speak, { direction: 'speak', codec: 'PCMU', ptime: undefined, target: { type: 'rtp', addr: '127.0.0.1', port: 40000 } });
    assert.equal(tapMechanism(speak), 'chanspy-rtp');
    assert.equal(chanSpyOptions('speak'), 'qEuo');
    assert.equal(chanSpyOptions('both'), 'qEu');
    // Asterisk sends 20 ms whatever is asked: the destination says so.
    assert.equal(destinationDevice(checkTapParams({ ...RTP, targetPtime: 40 })).params.ptime, 20);
    const ws = checkTapParams({ audioDirection: 'both', targetType: 'ws', targetUri: 'wss://example.test/a?b=1', codec: 'PCMA', targetPtime: 40 });
    assert.equal(tapMechanism(ws), 'chanspy-audiosocket');
    assert.deepEqual(destinationDevice(ws), { type: 'ws', params: { uri: 'wss://example.test/a?b=1', codec: 'PCMA', ptime: 40, rate: 8000 } });
    const listen = checkTapParams({ ...RTP, audioDirection: 'listen', targetPtime: 60 });
    assert.equal(tapMechanism(listen), 'mixmonitor');
    assert.equal(destinationDevice(listen).params.ptime, 60);
    // targetType defaults to rtp.
    assert.equal(checkTapParams({ audioDirection: 'speak', targetAddr: '127.0.0.1', targetPort: 1 }).target.type, 'rtp');
  });

  for (const [params, message] of [
    [{ ...RTP, audioDirection: 'out' }, /audioDirection must be one of listen, speak, both/],
    [{ ...RTP, targetType: 'sip' }, /targetType must be rtp or ws/],
    [{ ...RTP, targetAddr: 'localhost' }, /targetAddr must be an IPv4 address/],
    [{ ...RTP, targetAddr: '::1' }, /IPv4/],
    [{ ...RTP, targetPort: 0 }, /targetPort must be a UDP port/],
    [{ ...RTP, targetPort: 70000 }, /targetPort/],
    [{ ...RTP, targetPort: '4000' }, /targetPort/],
    [{ ...RTP, codec: 'G722' }, /codec must be one of PCMU, PCMA/],
    [{ ...RTP, targetPtime: 25 }, /targetPtime must be 10 to 120 ms in steps of 10/],
    [{ ...RTP, targetPtime: 0 }, /targetPtime/],
    [{ audioDirection: 'speak', targetType: 'ws', targetUri: 'http://x/' }, /targetUri must be a ws:\/\/ or wss:\/\/ URL/],
    [{ audioDirection: 'speak', targetType: 'ws' }, /targetUri/],
  ] as const) {
    it(`refuses ${JSON.stringify(params)}`, () => {
      assert.throws(() => checkTapParams(params as unknown as TapParams), (error: unknown) => error instanceof RelayArgumentError && message.test(error.message));
    });
  }
});

describe('RTP framing', () => {
  it('writes and reads the fixed header', () => {
    const packet = encodeRtp({ payloadType: 8, sequence: 0xffff, timestamp: 0xfffffff0, ssrc: 0x12345678, marker: true }, Buffer.from([1, 2, 3]));
    assert.deepEqual([...packet.subarray(0, 2)], [0x80, 0x88]);
    assert.deepEqual(decodeRtp(packet), { payloadType: 8, marker: true, sequence: 0xffff, timestamp: 0xfffffff0, ssrc: 0x12345678, payload: Buffer.from([1, 2, 3]) });
  });

  it('skips CSRCs, an extension and padding; refuses what is not RTP v2', () => {
    const payload = Buffer.from([9, 9]);
    const packet = Buffer.concat([Buffer.from([0xb1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]), Buffer.alloc(4), Buffer.from([0xbe, 0xde, 0, 1]), Buffer.alloc(4), payload, Buffer.from([0, 2])]);
    assert.deepEqual(decodeRtp(packet)?.payload, payload);
    assert.equal(decodeRtp(Buffer.alloc(11)), undefined);
    assert.equal(decodeRtp(Buffer.from([0x40, ...Buffer.alloc(11)])), undefined);
  });
});

describe('AudioSocket', () => {
  it('frames: kind, 16-bit length, payload; a reader joins split chunks and holds one frame at most', () => {
    const audio = encodeAudioSocketFrame(AudioSocketKind.audio, Buffer.alloc(320, 7));
    assert.deepEqual([...audio.subarray(0, 3)], [0x10, 0x01, 0x40]);
    const uuid = randomUUID();
    const stream = Buffer.concat([encodeAudioSocketFrame(AudioSocketKind.uuid, Buffer.from(uuid.replace(/-/g, ''), 'hex')), audio, encodeAudioSocketFrame(AudioSocketKind.hangup)]);
    const reader = new AudioSocketReader();
    const frames = [...reader.push(stream.subarray(0, 10)), ...reader.push(stream.subarray(10, 200)), ...reader.push(stream.subarray(200))];
    assert.deepEqual(frames.map((f) => [f.kind, f.payload.length]), [[1, 16], [0x10, 320], [0, 0]]);
    assert.equal(uuidOfPayload(frames[0]!.payload), uuid);
    assert.equal(reader.bufferedBytes, 0);
    assert.throws(() => encodeAudioSocketFrame(AudioSocketKind.audio, Buffer.alloc(70_000)), RangeError);
  });

  it('the server accepts the channel with its uuid only, and hands over its audio until the connection ends', async () => {
    const uuid = randomUUID();
    const server = await AudioSocketServer.listen(uuid);
    const accepting = server.accept(new AbortController().signal);
    const { port } = server.address;
    const stranger = connect(port, '127.0.0.1');
    stranger.write(encodeAudioSocketFrame(AudioSocketKind.uuid, Buffer.alloc(16, 1)));
    await within(new Promise((resolve) => stranger.once('close', resolve)), WAIT_MS, 'a wrong uuid to be hung up on');
    const channel = connect(port, '127.0.0.1');
    channel.write(encodeAudioSocketFrame(AudioSocketKind.uuid, Buffer.from(uuid.replace(/-/g, ''), 'hex')));
    const session = await within(accepting, WAIT_MS, 'the channel to be accepted');
    const audio: Buffer[] = [];
    session.onAudio((pcm) => audio.push(pcm));
    channel.end(encodeAudioSocketFrame(AudioSocketKind.audio, Buffer.alloc(320, 1)));
    await within(session.ended, WAIT_MS, 'the end of the connection (no hangup frame) to end the session');
    assert.deepEqual(audio.map((a) => a.length), [320]);
  });
});

describe('tap media', () => {
  it('Framer cuts samples into ptime frames; S16leReader joins a sample split between chunks', () => {
    const framer = new Framer(160);
    assert.deepEqual(framer.push(new Int16Array(100)).length, 0);
    assert.deepEqual(framer.push(new Int16Array(400)).map((f) => f.length), [160, 160, 160]);
    const reader = new S16leReader();
    const bytes = Buffer.alloc(6);
    bytes.writeInt16LE(1000, 0);
    bytes.writeInt16LE(-2, 2);
    bytes.writeInt16LE(300, 4);
    assert.deepEqual([...reader.push(bytes.subarray(0, 3)), ...reader.push(bytes.subarray(3))], [1000, -2, 300]);
  });

  /** RMS of a sine of `hz` at 48 kHz after decimation to 8 kHz, fed in uneven chunks. */
  function decimatedRms(hz: number): { rms: number; length: number } {
    const input = Int16Array.from({ length: 48_000 }, (_, i) => Math.round(10_000 * Math.sin((2 * Math.PI * hz * i) / 48_000)));
    const decimator = new Decimator(6);
    const parts: Int16Array[] = [];
    for (let start = 0; start < input.length; start += 1237) parts.push(decimator.push(input.subarray(start, start + 1237)));
    const out = Int16Array.from(parts.flatMap((p) => [...p]));
    const steady = out.subarray(100);
    return { rms: Math.sqrt(steady.reduce((sum, v) => sum + v * v, 0) / steady.length), length: out.length };
  }

  it('Decimator: 48 kHz to 8 kHz keeps speech frequencies and removes what would fold back', () => {
    const speech = decimatedRms(1000);
    assert.ok(Math.abs(speech.length - 8000) <= 12, `8000 samples out of 1 s, got ${speech.length}`);
    assert.ok(Math.abs(speech.rms - 10_000 / Math.SQRT2) < 300, `1 kHz passes: rms ${speech.rms.toFixed(0)}`);
    assert.ok(decimatedRms(6000).rms < 200, '6 kHz (it would alias to 2 kHz) is removed');
  });

  it('Pacer sends a burst at the pace of real time, and tells the sink about a pause', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      const sent: Array<[number, number]> = [];
      const gaps: number[] = [];
      const sink = { send: (frame: Buffer) => sent.push([Date.now(), frame[0]!]), gap: (samples: number) => gaps.push(samples) } as unknown as TapSink;
      const pacer = new Pacer(sink, 20, () => assert.fail('nothing is dropped'));
      for (let i = 0; i < 5; i++) pacer.push(Buffer.from([i]));
      // One frame at once, then one every 20 ms, in order.
      const counts: number[] = [];
      mock.timers.tick(0);
      counts.push(sent.length);
      for (let step = 0; step < 8; step++) {
        mock.timers.tick(10);
        counts.push(sent.length);
      }
      assert.deepEqual(counts, [1, 1, 2, 2, 3, 3, 4, 4, 5]);
      assert.deepEqual(sent.map(([, byte]) => byte), [0, 1, 2, 3, 4]);
      mock.timers.tick(PACER_GAP_MS + 400);
      pacer.push(Buffer.from([9]));
      mock.timers.tick(0);
      assert.deepEqual(sent.at(-1), [Date.now(), 9]);
      // The audio sent ended at +100 ms (5 frames of 20 ms): the time since is the gap.
      assert.deepEqual(gaps, [((Date.now() - 1_000_100) * 8000) / 1000]);
      pacer.stop();
    } finally {
      mock.timers.reset();
    }
  });
});

/** An AMI double: records actions, lets the test emit events. */
class FakeTapAmi extends EventEmitter {
  readonly actions: Array<[string, unknown]> = [];
  readonly channels = new Map<string, (event: AmiMessage) => void>();
  originateResult = { success: true, reason: 4 };

  channel(id: string, listener: (event: AmiMessage) => void): { unsubscribe(): void } {
    this.channels.set(id, listener);
    return { unsubscribe: () => this.channels.delete(id) };
  }

  async originate(options: { channel: string; data: string; channelId: string }): Promise<unknown> {
    this.actions.push(['Originate', options]);
    const event = new AmiMessage([['Event', 'OriginateResponse'], ['Response', this.originateResult.success ? 'Success' : 'Failure'], ['Reason', String(this.originateResult.reason)]]);
    if (this.originateResult.success) setImmediate(() => this.emit('event', new AmiMessage([['Event', 'ChanSpyStart'], ['SpyerUniqueid', options.channelId]])));
    return { ...this.originateResult, uniqueid: options.channelId, channel: options.channel, event, response: event };
  }

  async getVariable(channel: string, name: string): Promise<string> {
    return name === 'UNICASTRTP_LOCAL_PORT' ? '17000' : name === 'UNICASTRTP_LOCAL_ADDRESS' ? '127.0.0.1' : '';
  }

  /** MixMonitor and StopMixMonitor, the `listen` tap's actions. */
  async action(name: string, fields: Record<string, string | undefined>): Promise<AmiMessage> {
    this.actions.push([name, fields]);
    return new AmiMessage([['Response', 'Success'], ...(name === 'MixMonitor' ? [['MixMonitorID', '0x1'] as [string, string]] : [])]);
  }

  async hangup(channel: string): Promise<void> {
    this.actions.push(['Hangup', channel]);
    setImmediate(() => this.channels.get(channel)?.(new AmiMessage([['Event', 'Hangup'], ['Uniqueid', channel], ['Cause', '16']])));
  }
}

function fakeCall(ami?: FakeTapAmi, media = false): Call {
  const runtime = new RelayRuntime({ ...(ami ? { ami: ami as unknown as AmiClient } : {}), ...(media ? { media: { directory: { local: '/tmp/agikit-tap-unit' } } } : {}) });
  const call = new Call(runtime, { id: 'call-1', context: 'c', fromNumber: '', toNumber: '', channel: 'PJSIP/a-1' });
  call.advance('answered');
  return call;
}

describe('tap component', () => {
  it('speak to RTP: originates the UnicastRTP spy, taps once ChanSpy starts, stop() hangs the spy up', async () => {
    const ami = new FakeTapAmi();
    const call = fakeCall(ami);
    const seen: string[] = [];
    call.on('tap.tapping', (a) => seen.push(`tapping:${a.state}`));
    call.on('tap.finished', (a) => seen.push(`finished:${a.state}`));
    const action = await call.tapAsync({ ...RTP, codec: 'PCMA' });
    await nextEvent(call, 'tap.tapping', 'tap.tapping');
    const [name, originate] = ami.actions[0] as [string, { channel: string; data: string; channelId: string }];
    assert.equal(name, 'Originate');
    assert.equal(originate.channel, 'UnicastRTP/127.0.0.1:40000/c(alaw)');
    assert.equal(originate.data, 'call-1,qEuo');
    assert.deepEqual(action.sourceDevice, { type: 'rtp', params: { addr: '127.0.0.1', port: 17000, codec: 'PCMA', ptime: 20, rate: 8000 } });
    assert.deepEqual(await action.stop(), { successful: true });
    assert.deepEqual(ami.actions[1], ['Hangup', originate.channelId]);
    assert.equal(action.result?.successful, true);
    assert.equal(action.result?.event?.name, 'tap.stopped');
    assert.deepEqual(seen, ['tapping:tapping', 'finished:finished']);
    assert.equal(ami.channels.size, 0, 'the spy channel subscription is gone');
    assert.equal(ami.listenerCount('event'), 0);
  });

  it('the spy channel going by itself ends the tap (the call hung up: ChanSpy E)', async () => {
    const ami = new FakeTapAmi();
    const call = fakeCall(ami);
    const action = await call.tapAsync({ ...RTP, audioDirection: 'both' });
    await nextEvent(call, 'tap.tapping', 'tap.tapping');
    const { channelId, data } = ami.actions[0]![1] as { channelId: string; data: string };
    assert.equal(data, 'call-1,qEu');
    ami.channels.get(channelId)?.(new AmiMessage([['Event', 'Hangup'], ['Uniqueid', channelId]]));
    const result = await within(action.done, WAIT_MS, 'the tap to end');
    assert.deepEqual([result.successful, result.event?.name], [true, 'ami.Hangup']);
    assert.equal(ami.actions.length, 1, 'nothing left to hang up');
  });

  it('a spy that cannot be originated: unsuccessful, with the OriginateResponse', async () => {
    const ami = new FakeTapAmi();
    ami.originateResult = { success: false, reason: 0 };
    const result = await within(fakeCall(ami).tap(RTP), 1000, 'an unsuccessful tap at once (no channel to hang up)');
    assert.deepEqual([result.successful, result.event?.name, result.sourceDevice], [false, 'ami.OriginateResponse', null]);
    assert.deepEqual(ami.actions.map(([name]) => name), ['Originate']);
    assert.equal(ami.channels.size, 0);
  });

  it('a WebSocket target that refuses: unsuccessful before any spy is originated', async () => {
    const ami = new FakeTapAmi();
    const server = await AudioSocketServer.listen(randomUUID());
    const { port } = server.address;
    server.close();
    const result = await fakeCall(ami).tap({ audioDirection: 'speak', targetType: 'ws', targetUri: `ws://127.0.0.1:${port}/` });
    assert.equal(result.successful, false);
    assert.equal(result.event?.name, 'tap.error');
    assert.deepEqual(ami.actions, []);
  });

  it('listen to RTP: reads what MixMonitor writes into the FIFO, sends it at 8 kHz; stop() stops MixMonitor, removes the FIFO and lets its descriptor go once', async () => {
    const ami = new FakeTapAmi();
    const call = fakeCall(ami, true);
    const receiver = createSocket('udp4');
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const packets: Buffer[] = [];
    receiver.on('message', (packet) => packets.push(packet));
    try {
      const action = await call.tapAsync({ ...RTP, audioDirection: 'listen', targetPort: receiver.address().port, codec: 'PCMA' });
      await nextEvent(call, 'tap.tapping', 'tap.tapping');
      const [name, fields] = ami.actions[0] as [string, { Options: string }];
      assert.equal(name, 'MixMonitor');
      const fifo = /^t\((.+\.sln48)\)$/.exec(fields.Options)?.[1];
      assert.ok(fifo, `MixMonitor writes into a FIFO: ${fields.Options}`);
      assert.ok(statSync(fifo).isFIFO());
      // 100 ms of a loud 48 kHz square wave, as MixMonitor would write it: five 20 ms packets of PCMA.
      const samples = Buffer.alloc(4800 * 2);
      for (let i = 0; i < 4800; i++) samples.writeInt16LE(i % 48 < 24 ? 12000 : -12000, i * 2);
      const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(writer, samples);
      closeSync(writer);
      await until(() => packets.length >= 5, 'five RTP packets from 100 ms of audio');
      assert.deepEqual([...new Set(packets.map((packet) => decodeRtp(packet)?.payloadType))], [8]);
      assert.deepEqual(await action.stop(), { successful: true });
      assert.deepEqual(ami.actions[1], ['StopMixMonitor', { Channel: 'PJSIP/a-1', MixMonitorID: '0x1' }]);
      assert.equal(existsSync(fifo), false, 'the FIFO is removed');
    } finally {
      receiver.close();
    }
    // A descriptor owned twice (by the socket reading the FIFO and by a FileHandle left to the
    // garbage collector) is closed again at the next collection: EBADF ends the process there.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('refuses before anything starts: bad parameters, no AMI, listen without a media directory', async () => {
    await assert.rejects(fakeCall(new FakeTapAmi()).tapAsync({ ...RTP, targetPort: -1 }), RelayArgumentError);
    await assert.rejects(fakeCall().tapAsync(RTP), (error: unknown) => error instanceof RelayCapabilityError && error.capability === 'ami' && error.method === 'tap');
    await assert.rejects(
      fakeCall(new FakeTapAmi()).tapAsync({ ...RTP, audioDirection: 'listen' }),
      (error: unknown) => error instanceof RelayCapabilityError && error.capability === 'media-directory',
    );
  });
});
