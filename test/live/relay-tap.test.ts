/**
 * Live: the Relay Call's tap() / tapAsync() against a real Asterisk 22. The test receives the tap
 * itself, on 127.0.0.1 only: RTP on a UDP socket (packets decoded: payload type, sequence numbers,
 * timestamps, G.711 levels) and WebSocket messages on a `ws` server. The far leg speaks (Playback)
 * and sends real silence frames; the call plays files; each direction is checked to carry its own
 * side and not the other:
 * - `speak`: loud while the far leg speaks, silent while the call plays;
 * - `listen`: loud while the call plays, silent while the far leg speaks;
 * - `both`: loud for either.
 * After `stop()` no packet arrives (from 0.25 s to 1 s after it).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { alawToLinear, ulawToLinear } from '../../src/media/audio.js';
import type { Call } from '../../src/relay/call.js';
import { decodeRtp } from '../../src/relay/rtp.js';
import type { TapAction } from '../../src/relay/tap.js';
import type { TapCodec } from '../../src/relay/tap-params.js';
import { far } from '../../src/testing/asterisk.js';
import { RelayRig, live, signalFar, skip } from './relay-rig.js';
import { waitSignal } from './rig.js';
import { until, within } from '../support/settle.js';

/** RMS above which a 20 ms frame holds speech (Asterisk's silence threshold is 256). */
const LOUD = 300;
/** RMS under which a frame is silence (digital silence decodes to 0 or ±8). */
const SILENT = 100;

/** One frame received: when, its level, and for RTP its header and source port. */
interface Received {
  readonly at: number;
  readonly rms: number;
  readonly bytes: number;
  readonly payloadType?: number;
  readonly sequence?: number;
  readonly timestamp?: number;
  readonly fromPort?: number;
}

function rms(payload: Uint8Array, codec: TapCodec): number {
  const decode = codec === 'PCMU' ? ulawToLinear : alawToLinear;
  let sum = 0;
  for (const byte of payload) sum += decode(byte) ** 2;
  return Math.sqrt(sum / (payload.length || 1));
}

/** What arrived in a time window, and its levels. */
function window(frames: readonly Received[], from: number, to: number): { frames: Received[]; loud: number; maxRms: number } {
  const inside = frames.filter((f) => f.at >= from && f.at <= to);
  return { frames: inside, loud: inside.filter((f) => f.rms > LOUD).length, maxRms: Math.max(0, ...inside.map((f) => f.rms)) };
}

/** A UDP socket on 127.0.0.1 that decodes the RTP it gets. */
class RtpReceiver {
  readonly frames: Received[] = [];
  private constructor(
    private readonly socket: Socket,
    codec: TapCodec,
  ) {
    socket.on('message', (message, from) => {
      const packet = decodeRtp(message);
      assert.ok(packet, 'an RTP packet');
      this.frames.push({ at: Date.now(), rms: rms(packet.payload, codec), bytes: packet.payload.length, ...packet, fromPort: from.port });
    });
  }

  static async open(codec: TapCodec = 'PCMU'): Promise<RtpReceiver> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RtpReceiver(socket, codec);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Payload types, sequence steps, timestamp steps and payload sizes seen. */
  shape(): { payloadTypes: number[]; sequenceSteps: number[]; timestampSteps: number[]; sizes: number[] } {
    const distinct = (values: number[]): number[] => [...new Set(values)].sort((a, b) => a - b);
    const steps = (key: 'sequence' | 'timestamp', modulo: number): number[] =>
      distinct(this.frames.slice(1).map((f, i) => ((f[key] as number) - (this.frames[i]![key] as number) + modulo) % modulo));
    return {
      payloadTypes: distinct(this.frames.map((f) => f.payloadType as number)),
      sequenceSteps: steps('sequence', 0x10000),
      timestampSteps: steps('timestamp', 0x1_0000_0000),
      sizes: distinct(this.frames.map((f) => f.bytes)),
    };
  }

  close(): void {
    this.socket.close();
  }
}

/** A WebSocket server on 127.0.0.1 that takes one connection and decodes its binary messages. */
class WsReceiver {
  readonly frames: Received[] = [];
  connection: WebSocket | undefined;
  closedAt: number | undefined;
  path: string | undefined;

  private constructor(
    private readonly server: WebSocketServer,
    codec: TapCodec,
  ) {
    server.on('connection', (socket, request) => {
      this.connection = socket;
      this.path = request.url;
      socket.on('message', (data: Buffer, isBinary) => {
        assert.ok(isBinary, 'binary messages');
        this.frames.push({ at: Date.now(), rms: rms(data, codec), bytes: data.length });
      });
      socket.on('close', () => {
        this.closedAt = Date.now();
      });
    });
  }

  static async open(codec: TapCodec = 'PCMU'): Promise<WsReceiver> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new WsReceiver(server, codec);
  }

  get uri(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/tap`;
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Records `tap.*` events of a call as `event:state`. */
function watchTap(call: Call): string[] {
  const seen: string[] = [];
  for (const name of ['tap.tapping', 'tap.finished'] as const) call.on(name, (action) => seen.push(`${name}:${action.state}`));
  return seen;
}

async function tapping(action: TapAction): Promise<void> {
  await until(() => action.state !== 'pending', 'the tap to start');
  assert.equal(action.state, 'tapping', `tapping, not ${action.state}: ${JSON.stringify(action.result)}`);
}

/** The far leg speaks (tt-weasels, 2.96 s) when told `go`, says `spoke`, then sends real silence. */
const FAR_SPEAKS_ON_GO = [far.waitFor('go', { timeoutMs: 20_000 }), far.playback('tt-weasels'), far.signal('spoke'), far.silence(20)];

/** Has the far leg speak; returns the window it spoke in. */
async function farSpeaks(call: Call): Promise<{ from: number; to: number }> {
  const from = Date.now();
  await signalFar(call, 'go');
  await waitSignal(call.requireAgi('test'), 'spoke', 15_000);
  return { from, to: Date.now() };
}

/** Has the call play hello-world (1.42 s); returns the window it played in. */
async function callPlays(call: Call): Promise<{ from: number; to: number }> {
  const from = Date.now();
  assert.equal((await call.playAudio('hello-world')).successful, true);
  return { from, to: Date.now() };
}

/**
 * Stops the tap and returns the number of frames that arrived from 0.25 s to 1 s after. A frame is
 * stamped when this process reads it, so on a loaded machine one sent just before stop() can be
 * read a little after it; a tap that went on would send 40 or more in that window.
 */
async function stopAndCount(action: TapAction, frames: readonly Received[]): Promise<number> {
  assert.deepEqual(await action.stop(), { successful: true });
  const quietFrom = Date.now() + 250;
  await sleep(1000);
  return frames.filter((f) => f.at > quietFrom).length;
}

describe('live: Relay tap', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it('tapAsync speak to RTP (ChanSpy o on UnicastRTP): PCMU packets loud while the far leg speaks, silent while the call plays; none after stop()', { skip }, async (t) => {
    assert.ok(rig);
    const rx = await RtpReceiver.open('PCMU');
    try {
      await rig.run(
        async (call) => {
          const seen = watchTap(call);
          const action = await call.tapAsync({ audioDirection: 'speak', targetType: 'rtp', targetAddr: '127.0.0.1', targetPort: rx.port, codec: 'PCMU', targetPtime: 40 });
          await tapping(action);
          const spoke = farSpeaks(call);
          const speech = window(rx.frames, (await spoke).from, (await spoke).to);
          assert.ok(speech.loud >= 40, `loud packets while the far leg spoke: ${speech.loud} of ${speech.frames.length}`);
          const played = await callPlays(call);
          const play = window(rx.frames, played.from + 100, played.to);
          assert.ok(play.frames.length >= 20, `packets keep coming (the far leg sends silence): ${play.frames.length}`);
          assert.ok(play.maxRms < SILENT, `the call's own audio is not in a speak tap (max rms ${play.maxRms.toFixed(0)})`);
          t.diagnostic(`far leg speaking: ${speech.loud} loud of ${speech.frames.length} packets; call playing: ${play.frames.length} packets, max rms ${play.maxRms.toFixed(0)}`);
          assert.equal(await stopAndCount(action, rx.frames), 0, 'no packet from 0.25 s to 1 s after stop()');
          const result = action.result;
          assert.ok(result);
          assert.equal(result.successful, true);
          assert.equal(result.event?.name, 'tap.stopped');
          assert.deepEqual(result.tap, { type: 'audio', params: { direction: 'speak' } });
          // Asterisk sends 20 ms packets whatever targetPtime says, and the result says so.
          assert.deepEqual(result.destinationDevice, { type: 'rtp', params: { addr: '127.0.0.1', port: rx.port, codec: 'PCMU', ptime: 20, rate: 8000 } });
          assert.equal(result.sourceDevice?.type, 'rtp');
          assert.equal(result.sourceDevice?.params.port, rx.frames[0]?.fromPort, 'the source device is the socket the packets came from');
          assert.deepEqual(action.sourceDevice, result.sourceDevice);
          assert.deepEqual(seen, ['tap.tapping:tapping', 'tap.finished:finished']);
        },
        { far: FAR_SPEAKS_ON_GO },
      );
      const shape = rx.shape();
      assert.deepEqual([shape.payloadTypes, shape.sequenceSteps, shape.sizes], [[0], [1], [160]]);
      // 160 samples a packet; where the spy had no frame for a while (a loaded machine), Asterisk's
      // timestamps jump by the time that went by, so they only ever grow by 160 or more.
      assert.ok(shape.timestampSteps.includes(160) && shape.timestampSteps.every((step) => step >= 160), `timestamp steps ${shape.timestampSteps.join(' ')}`);
    } finally {
      rx.close();
    }
  });

  it('tapAsync listen to RTP (MixMonitor t() FIFO, sent by agikit): PCMA at targetPtime 40, loud while the call plays, silent while the far leg speaks; none after stop()', { skip }, async (t) => {
    assert.ok(rig);
    const rx = await RtpReceiver.open('PCMA');
    try {
      await rig.run(
        async (call) => {
          const action = await call.tapAsync({ audioDirection: 'listen', targetType: 'rtp', targetAddr: '127.0.0.1', targetPort: rx.port, codec: 'PCMA', targetPtime: 40 });
          await tapping(action);
          const played = await callPlays(call);
          // MixMonitor hands its FIFO 0.34 s of audio at a time: allow for that after the play.
          await sleep(1000);
          const play = window(rx.frames, played.from, Date.now());
          assert.ok(play.loud >= 15, `loud packets while the call played: ${play.loud} of ${play.frames.length}`);
          const spoke = await farSpeaks(call);
          await sleep(1000);
          const speech = window(rx.frames, spoke.from + 1000, Date.now());
          assert.ok(speech.maxRms < SILENT, `what the caller says is not in a listen tap (max rms ${speech.maxRms.toFixed(0)} over ${speech.frames.length} packets)`);
          t.diagnostic(`call playing: ${play.loud} loud of ${play.frames.length} packets; far leg speaking: ${speech.frames.length} packets, max rms ${speech.maxRms.toFixed(0)}`);
          assert.equal(await stopAndCount(action, rx.frames), 0, 'no packet from 0.25 s to 1 s after stop()');
          const result = action.result;
          assert.equal(result?.successful, true);
          assert.deepEqual(result?.destinationDevice, { type: 'rtp', params: { addr: '127.0.0.1', port: rx.port, codec: 'PCMA', ptime: 40, rate: 8000 } });
          assert.deepEqual(result?.sourceDevice, { type: 'rtp', params: { addr: '127.0.0.1', port: rx.frames[0]?.fromPort, codec: 'PCMA', ptime: 40, rate: 8000 } });
        },
        { far: FAR_SPEAKS_ON_GO },
      );
      const shape = rx.shape();
      assert.deepEqual([shape.payloadTypes, shape.sequenceSteps, shape.sizes], [[8], [1], [320]]);
      // 320 samples a packet; a larger step only where a talkspurt starts after a pause.
      assert.ok(shape.timestampSteps.every((step) => step >= 320), `timestamp steps ${shape.timestampSteps.join(' ')}`);
    } finally {
      rx.close();
    }
  });

  it('tap both to RTP, blocking: loud for the far leg and for the call; aborting its signal ends it and tap() resolves', { skip }, async (t) => {
    assert.ok(rig);
    const rx = await RtpReceiver.open('PCMU');
    try {
      await rig.run(
        async (call) => {
          const abort = new AbortController();
          let started: TapAction | undefined;
          call.on('tap.tapping', (action) => {
            started = action;
          });
          const tapped = call.tap({ audioDirection: 'both', targetType: 'rtp', targetAddr: '127.0.0.1', targetPort: rx.port }, { signal: abort.signal });
          await until(() => started !== undefined, 'tap.tapping');
          const spoke = await farSpeaks(call);
          const speech = window(rx.frames, spoke.from, spoke.to);
          const played = await callPlays(call);
          const play = window(rx.frames, played.from, played.to);
          assert.ok(speech.loud >= 40, `loud while the far leg spoke: ${speech.loud}`);
          assert.ok(play.loud >= 20, `loud while the call played: ${play.loud}`);
          t.diagnostic(`far leg speaking: ${speech.loud} loud of ${speech.frames.length}; call playing: ${play.loud} loud of ${play.frames.length}`);
          abort.abort();
          const result = await within(tapped, 8000, 'tap() to resolve after its signal aborted');
          assert.equal(result.successful, true);
          assert.equal(result.event?.name, 'tap.stopped');
          assert.equal(started?.completed, true);
        },
        { far: FAR_SPEAKS_ON_GO },
      );
    } finally {
      rx.close();
    }
  });

  it('tapAsync speak to a WebSocket (ChanSpy o on AudioSocket, relayed by agikit): binary PCMU frames loud while the far leg speaks; stop() closes the connection', { skip }, async (t) => {
    assert.ok(rig);
    const rx = await WsReceiver.open('PCMU');
    try {
      await rig.run(
        async (call) => {
          const action = await call.tapAsync({ audioDirection: 'speak', targetType: 'ws', targetUri: rx.uri, codec: 'PCMU' });
          await tapping(action);
          assert.equal(rx.path, '/tap');
          const spoke = await farSpeaks(call);
          const speech = window(rx.frames, spoke.from, spoke.to);
          assert.ok(speech.loud >= 40, `loud frames while the far leg spoke: ${speech.loud} of ${speech.frames.length}`);
          const played = await callPlays(call);
          const play = window(rx.frames, played.from + 100, played.to);
          assert.ok(play.maxRms < SILENT, `the call's own audio is not in a speak tap (max rms ${play.maxRms.toFixed(0)})`);
          t.diagnostic(`far leg speaking: ${speech.loud} loud of ${speech.frames.length} messages; call playing: max rms ${play.maxRms.toFixed(0)}`);
          assert.equal(await stopAndCount(action, rx.frames), 0, 'no frame from 0.25 s to 1 s after stop()');
          assert.ok(rx.closedAt !== undefined, 'agikit closed the WebSocket');
          assert.deepEqual(action.result?.destinationDevice, { type: 'ws', params: { uri: rx.uri, codec: 'PCMU', ptime: 20, rate: 8000 } });
          assert.equal(action.result?.sourceDevice?.type, 'ws');
        },
        { far: FAR_SPEAKS_ON_GO },
      );
      assert.deepEqual([...new Set(rx.frames.map((f) => f.bytes))], [160], '20 ms of PCMU a message');
    } finally {
      await rx.close();
    }
  });

  it('tap listen to a WebSocket, blocking: loud while the call plays; the far leg hanging up ends it and tap() resolves', { skip }, async (t) => {
    assert.ok(rig);
    const rx = await WsReceiver.open('PCMU');
    try {
      await rig.run(
        async (call) => {
          let started: TapAction | undefined;
          call.on('tap.tapping', (action) => {
            started = action;
          });
          const tapped = call.tap({ audioDirection: 'listen', targetType: 'ws', targetUri: rx.uri, targetPtime: 60 });
          await until(() => started !== undefined, 'tap.tapping');
          const played = await callPlays(call);
          await sleep(1000);
          const play = window(rx.frames, played.from, Date.now());
          assert.ok(play.loud >= 8, `loud frames while the call played: ${play.loud} of ${play.frames.length}`);
          t.diagnostic(`call playing: ${play.loud} loud of ${play.frames.length} messages`);
          await signalFar(call, 'go');
          const result = await within(tapped, 15_000, 'tap() to resolve when the far leg hangs up');
          assert.equal(result.successful, true);
          assert.equal(result.event?.name, 'call.ended');
          await until(() => rx.closedAt !== undefined, 'agikit to close the WebSocket');
        },
        { far: [far.waitFor('go', { timeoutMs: 20_000 }), far.hangup()] },
      );
      assert.deepEqual([...new Set(rx.frames.map((f) => f.bytes))], [480], '60 ms of PCMU a message');
    } finally {
      await rx.close();
    }
  });
});
