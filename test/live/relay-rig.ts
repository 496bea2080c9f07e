/**
 * Shared rig of the Relay live tests: one real Asterisk (with a media directory mounted from the
 * host, and AMI when asked for), and one Relay {@link Consumer} serving the context `live`. A call
 * placed with {@link RelayRig.run} reaches the consumer as an inbound {@link Call} and runs the given
 * function; the far leg follows its harness script (DTMF, audio, silence, recording, hangup).
 *
 * Calls are told apart by the harness call id, which Asterisk sends as `agi_extension` and the Call
 * has as `toNumber`.
 *
 * Not a test file: it only exports helpers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { MediaOptions } from '../../src/media/options.js';
import { EspeakTtsProvider } from '../../src/media/tts.js';
import type { Call } from '../../src/relay/call.js';
import type { Client } from '../../src/relay/client.js';
import type { RelayRuntime } from '../../src/relay/runtime.js';
import { Consumer, type RelayConnection } from '../../src/relay/consumer.js';
import { AGIKIT_DIALPLAN, startAsterisk, type CallResult, type LiveAsterisk, type LiveCall, type OriginateOptions, type StartAsteriskOptions } from '../../src/testing/asterisk.js';
import { wavStats } from '../../src/testing/wav.js';
import { callDialplan } from '../../src/testing/call-dialplan.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import type { FarStep } from '../../src/testing/far-steps.js';
import { DEFAULT_DEVICE_CONTEXT } from '../../src/relay/devices.js';
import { sineWav } from './relay-audio.js';
import { newCallId } from './rig.js';
import { within } from '../support/settle.js';

export { live, skip } from './rig.js';

/** Where the container sees the media directory. */
export const MOUNT = '/agikit-media';
/** The Relay context the rig's consumer serves. */
export const CONTEXT = 'live';

/** A function run on one inbound call. */
export type CallScript = (call: Call) => Promise<void>;

/** The consumer of the rig: dispatches each call to the script registered for its call id. */
class RigConsumer extends Consumer {
  readonly scripts = new Map<string, CallScript>();
  readonly outcomes = new Map<string, (outcome: { error?: unknown }) => void>();
  private readyNow: (() => void) | undefined;
  readonly isReady = new Promise<void>((resolve) => {
    this.readyNow = resolve;
  });

  override setup(): void {
    this.contexts = [CONTEXT];
  }

  override ready(): void {
    this.readyNow?.();
  }

  override async onIncomingCall(call: Call): Promise<void> {
    const script = this.scripts.get(call.toNumber);
    const report = this.outcomes.get(call.toNumber);
    if (!script) throw new Error(`no script for call ${call.toNumber}`);
    try {
      await script(call);
      report?.({});
    } catch (error) {
      report?.({ error });
    }
  }
}

/** Options of {@link RelayRig.start}. */
export interface RelayRigOptions extends Omit<StartAsteriskOptions, 'ami'> {
  /** Extra consumer connection settings. */
  readonly connection?: Omit<RelayConnection, 'agi' | 'media' | 'ami'>;
  /**
   * Give the consumer AMI (default `true`), with the classes the Relay layer documents it needs
   * ({@link RELAY_AMI_CLASSES}); `false` runs the AGI-only subset.
   */
  readonly ami?: boolean;
}

/** The AMI user's classes the Relay layer needs (least privilege, as the README documents). */
export const RELAY_AMI_CLASSES = { read: 'call,dtmf,user,agi', write: 'call,originate,system,message' } as const;

/** What {@link RelayRig.run} observed. */
export interface RelayRunResult {
  readonly call: LiveCall;
  /** What the dialplan recorded when the call's AGI side hung up. */
  readonly result: CallResult;
}

/** How a rig consumer is made: the consumer settings besides where it listens. */
export type PeerSettings = Omit<RelayConnection, 'agi'>;

/**
 * A consumer of the rig serving the context `live` (the rig's own, or one more on the same Asterisk:
 * {@link RelayRig.addConsumer}), with the calls it is given to run.
 */
export class RigPeer {
  private constructor(
    readonly asterisk: LiveAsterisk,
    private readonly consumer: RigConsumer,
    private readonly running: Promise<void>,
  ) {}

  /** Starts a consumer on `asterisk` and waits until it is ready. */
  static async start(asterisk: LiveAsterisk, settings: PeerSettings): Promise<RigPeer> {
    const consumer = new RigConsumer({ agi: { port: 0 }, ...settings });
    const running = consumer.run({ handleSignals: false });
    try {
      await within(Promise.race([consumer.isReady, running.then(() => Promise.reject(new Error('the consumer stopped before it was ready')))]), 20_000, 'the relay consumer to be ready');
    } catch (error) {
      consumer.stop();
      throw error;
    }
    return new RigPeer(asterisk, consumer, running);
  }

  /** The consumer's FastAGI port. */
  get port(): number {
    const address = this.consumer.address;
    if (!address) throw new Error('the consumer is not listening');
    return address.port;
  }

  /** The consumer's client (`consumer.client`: outbound calls, tasks, messages). */
  get client(): Client {
    return this.consumer.client;
  }

  /** The consumer's runtime (its calls, AMI, helper channels). */
  get runtime(): RelayRuntime {
    const runtime = this.consumer.runtime;
    if (!runtime) throw new Error('the consumer is not running');
    return runtime;
  }

  /**
   * Places a call that reaches the consumer as an inbound Call running `script`, waits until the
   * call has ended on both sides, and rethrows what the script threw (a failed assertion).
   */
  async run(script: CallScript, options: Omit<OriginateOptions, 'agi' | 'callId'> = {}): Promise<RelayRunResult> {
    const id = newCallId();
    const outcome = new Promise<{ error?: unknown }>((resolve) => this.consumer.outcomes.set(id, resolve));
    this.consumer.scripts.set(id, script);
    try {
      const call = await this.asterisk.originate({ ...options, callId: id, agi: { port: this.port, route: `relay/${CONTEXT}` } });
      const result = await call.result();
      const { error } = await within(outcome, 15_000, `call ${id}: the script did not finish (result: ${JSON.stringify(result)})`);
      if (error) throw error;
      return { call, result };
    } finally {
      this.consumer.scripts.delete(id);
      this.consumer.outcomes.delete(id);
    }
  }

  /**
   * Registers `script` for calls whose `toNumber` is `id`, for a test that places its call itself
   * (e.g. one that rings into the consumer). Returns a function that unregisters it.
   */
  addScript(id: string, script: CallScript): () => void {
    this.consumer.scripts.set(id, script);
    return () => this.consumer.scripts.delete(id);
  }

  /** Stops the consumer (its calls in progress drain first). */
  async stop(): Promise<void> {
    this.consumer.stop();
    await this.running.catch(() => undefined);
  }
}

/** One Asterisk, one media directory, one Relay consumer (and more on demand: {@link addConsumer}). */
export class RelayRig {
  private readonly peers: RigPeer[] = [];

  private constructor(
    readonly asterisk: LiveAsterisk,
    private readonly main: RigPeer,
    /** The media directory on this machine (Asterisk sees it at {@link MOUNT}). */
    readonly dir: string,
    /** The media settings the consumer has. */
    readonly media: MediaOptions,
    private readonly settings: PeerSettings,
  ) {}

  /** Starts Asterisk (media directory mounted) and the consumer (from `before`, only when live is ok). */
  static async start(options: RelayRigOptions = {}): Promise<RelayRig> {
    const dir = mkdtempSync('/tmp/agikit-relay-');
    const { connection, ami = true, ...asteriskOptions } = options;
    const asterisk = await startAsterisk({
      ...asteriskOptions,
      ...(ami ? { ami: RELAY_AMI_CLASSES } : {}),
      bindMounts: [...(asteriskOptions.bindMounts ?? []), { source: dir, target: MOUNT, readOnly: false }],
    });
    const media: MediaOptions = {
      directory: { local: dir, asterisk: MOUNT },
      tts: new EspeakTtsProvider({ directory: { local: path.join(dir, 'tts'), asterisk: `${MOUNT}/tts` } }),
    };
    const settings: PeerSettings = {
      media,
      log: pino({ level: process.env['AGIKIT_LIVE_LOG'] ?? 'silent' }),
      drainTimeoutMs: 2000,
      ...(asterisk.ami ? { ami: { ...asterisk.ami } } : {}),
      ...connection,
    };
    let main: RigPeer;
    try {
      main = await RigPeer.start(asterisk, settings);
    } catch (error) {
      await asterisk.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return new RelayRig(asterisk, main, dir, media, settings);
  }

  /** The consumer's FastAGI port. */
  get port(): number {
    return this.main.port;
  }

  /** The consumer's runtime (its calls, AMI, helper channels). */
  get runtime(): RelayRuntime {
    return this.main.runtime;
  }

  /** The consumer's client (`consumer.client`). */
  get client(): Client {
    return this.main.client;
  }

  /** Settings a consumer (or client) of the rig is made with: AMI, media, log. */
  get peerSettings(): PeerSettings {
    return this.settings;
  }

  /** See {@link RigPeer.run}: a call into the rig's consumer. */
  run(script: CallScript, options: Omit<OriginateOptions, 'agi' | 'callId'> = {}): Promise<RelayRunResult> {
    return this.main.run(script, options);
  }

  /** See {@link RigPeer.addScript}. */
  addScript(id: string, script: CallScript): () => void {
    return this.main.addScript(id, script);
  }

  /**
   * Starts one more consumer serving `live` on the same Asterisk, with its own FastAGI port, AMI
   * connection and runtime (as a second consumer process would have); stopped with the rig.
   */
  async addConsumer(): Promise<RigPeer> {
    const peer = await RigPeer.start(this.asterisk, this.settings);
    this.peers.push(peer);
    return peer;
  }

  /**
   * An answering far leg `farId` running `steps` (e.g. a recording of what it hears), reached by the
   * default device resolver of outbound calls: `Local/<farId>@relay-outbound/n` goes on to it.
   */
  async addOutboundFarLeg(farId: string, steps: readonly FarStep[]): Promise<void> {
    const plan = callDialplan(farId, { agi: 'agi://127.0.0.1:1/unused', far: steps });
    await this.asterisk.cliMany([
      ...plan.adds.filter((command) => command.endsWith(`into ${AGIKIT_DIALPLAN.farContext}`)),
      addExtensionCommand(DEFAULT_DEVICE_CONTEXT, farId, 1, 'Goto', `${AGIKIT_DIALPLAN.farContext},${farId},1`),
    ]);
  }

  /** Writes a sine WAV (`seconds` long, `hz`) into the media directory as `name`; returns its local path. */
  writeSine(name: string, seconds: number, hz: number): string {
    const file = path.join(this.dir, name);
    writeFileSync(file, sineWav(seconds, hz));
    return file;
  }

  /** Level statistics of a WAV file the far leg recorded into the media directory (`far.record(\`${MOUNT}/name.wav\`)`). */
  heard(name: string): ReturnType<typeof wavStats> {
    return wavStats(readFileSync(path.join(this.dir, name)));
  }

  async stop(): Promise<void> {
    await Promise.all([this.main, ...this.peers].map((peer) => peer.stop()));
    await this.asterisk.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Raises a harness signal the far leg waits for (`far.waitFor(name)`), through the call's AGI session. */
export async function signalFar(call: Call, name: string): Promise<void> {
  const agi = call.requireAgi('signalFar');
  await agi.databasePut(`${AGIKIT_DIALPLAN.syncFamily}/${call.toNumber}`, name, '1');
}
