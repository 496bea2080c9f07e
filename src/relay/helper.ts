/**
 * Helper ("spy") channels (D4 of relay-on-asterisk.md): a second channel, with an AGI session of its
 * own, that hears what a call's far party says, so that blocking detectors (AMD, WaitForTone, a
 * recording) run beside the call instead of on its one AGI command slot.
 *
 * agikit originates `Local/s@relay-helper-spy/n` into `s@relay-helper`, with the Originate
 * `ChannelId` set to a new helper id and the variables `RELAY_TARGET` (the call's `Uniqueid`),
 * `RELAY_OWNER` and `RELAY_HELPER`. The `;2` half runs `ChanSpy(${RELAY_TARGET},qEuo)` (the audio
 * coming from the call's channel only, ending when the call hangs up); the `;1` half, whose
 * `Uniqueid` is the helper id, runs `AGI(${RELAY_OWNER}/relay/helper)`, and that session is handed
 * to whoever asked ({@link HelperChannels.open}). `stop()` hangs the helper up.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Agi } from '../agi/agi.js';
import type { AmiClient } from '../ami/client.js';
import { AgiAbortError } from '../errors.js';
import type { Call } from './call.js';
import { RELAY_CONTEXTS, RELAY_VARIABLES } from './dialplan.js';
import { CallNotControllableError, RelayError } from './errors.js';
import type { RelayRuntime } from './runtime.js';

/** Options of {@link RelayRuntime.helperChannel}. */
export interface HelperOptions {
  /** How long placing the helper may take, until its AGI session has arrived (default 10,000 ms). */
  timeoutMs?: number;
  /** Aborting gives up placing the helper, or stops it once placed. */
  signal?: AbortSignal;
}

/** How long {@link HelperChannel.stop} waits for the helper's session to end (ms). */
const STOP_WAIT_MS = 5000;

/**
 * A helper channel listening to a call's far party, with its own AGI session ({@link agi}): run
 * what must not occupy the call's lane on it (`EXEC AMD`, `RECORD FILE`, ...). It ends when
 * {@link stop} is called, when the call ends (ChanSpy's `E`), or when it hangs up otherwise.
 */
export class HelperChannel {
  private finish!: () => void;
  private readonly finished = new Promise<void>((resolve) => {
    this.finish = resolve;
  });
  private stopping: Promise<void> | undefined;
  private readonly onTargetEnded = (): void => void this.stop();

  constructor(
    /** The helper's id: its `;1` half's `Uniqueid` (the Originate `ChannelId`). */
    readonly id: string,
    /** The call it listens to. */
    readonly target: Call,
    /** The helper's AGI session. */
    readonly agi: Agi,
    private readonly ami: AmiClient,
    /** Logger (bindings: the target's `uniqueid`, `helper`). */
    readonly log: Logger,
  ) {
    void agi.hungUp.then(() => this.finish());
    target.once('ended', this.onTargetEnded);
    void this.finished.then(() => target.off('ended', this.onTargetEnded));
  }

  /** Resolves once the helper is over (stopped, hung up, or its call ended). */
  get done(): Promise<void> {
    return this.finished;
  }

  /**
   * Hangs the helper up (AMI `Hangup`, which also ends an `EXEC`'d application on it) and resolves
   * once its session has ended. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const hangup = this.ami.hangup(this.id).catch((error: unknown) => this.log.debug({ err: error }, 'helper: AMI Hangup failed (already gone?)'));
      this.finish();
      await hangup;
      await sessionEnd(this.agi, STOP_WAIT_MS);
    })();
    return this.stopping;
  }
}

/** Resolves once `agi`'s session has ended (hung up or closed), or after `ms`. */
function sessionEnd(agi: Agi, ms: number): Promise<void> {
  const { signal } = agi;
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** A helper being placed: who asked, and where its session goes. */
interface PendingHelper {
  readonly target: Call;
  readonly log: Logger;
  deliver(helper: HelperChannel): void;
}

/** The helper channels of one runtime: placing them, and serving their AGI sessions (`/relay/helper`). */
export class HelperChannels {
  private readonly pending = new Map<string, PendingHelper>();

  constructor(private readonly runtime: RelayRuntime) {}

  /** Helpers being placed now. */
  get placing(): number {
    return this.pending.size;
  }

  /**
   * Places a helper listening to `call` and resolves with it once its AGI session has arrived.
   *
   * @throws RelayCapabilityError without AMI or a FastAGI address
   * @throws CallNotControllableError when the call is not up
   * @throws RelayError when Asterisk could not place it, or its session did not arrive in time
   * @throws AgiAbortError when `signal` was aborted first
   */
  async open(call: Call, options: HelperOptions = {}): Promise<HelperChannel> {
    const ami = this.runtime.requireAmi('helperChannel');
    const owner = this.runtime.requireOwner('helperChannel');
    if (!call.active) throw new CallNotControllableError('helperChannel', 'ended');
    const { signal } = options;
    if (signal?.aborted) throw new AgiAbortError('helperChannel', signal.reason);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const id = randomUUID();
    const log = call.log.child({ helper: id });
    const cleanups: Array<() => void> = [];
    try {
      const helper = await new Promise<HelperChannel>((resolve, reject) => {
        this.pending.set(id, { target: call, log, deliver: resolve });
        const timer = setTimeout(() => reject(new RelayError(`helperChannel: the helper's AGI session did not arrive within ${timeoutMs} ms`)), timeoutMs);
        cleanups.push(() => clearTimeout(timer));
        const onAbort = (): void => reject(new AgiAbortError('helperChannel', signal?.reason));
        signal?.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal?.removeEventListener('abort', onAbort));
        const onEnded = (): void => reject(new CallNotControllableError('helperChannel', 'ended'));
        call.once('ending', onEnded);
        cleanups.push(() => call.off('ending', onEnded));
        ami
          .originate({
            channel: `Local/s@${RELAY_CONTEXTS.helperSpy}/n`,
            context: RELAY_CONTEXTS.helper,
            exten: 's',
            priority: 1,
            channelId: id,
            timeoutMs,
            variables: { [RELAY_VARIABLES.target]: call.id, [RELAY_VARIABLES.owner]: owner, [RELAY_VARIABLES.helper]: id },
          })
          .then(
            (result) => {
              if (!result.success) reject(new RelayError(`helperChannel: Asterisk could not place the helper channel (Originate reason ${result.reason})`));
            },
            (error: unknown) => reject(error),
          );
      });
      if (signal) {
        const onAbort = (): void => void helper.stop();
        signal.addEventListener('abort', onAbort, { once: true });
        void helper.done.then(() => signal.removeEventListener('abort', onAbort));
      }
      log.debug('helper channel up');
      return helper;
    } catch (error) {
      this.pending.delete(id);
      void ami.hangup(id).catch(() => undefined);
      throw error;
    } finally {
      for (const cleanup of cleanups) cleanup();
    }
  }

  /** The `/relay/helper` route: hands the session to whoever placed the helper, and holds it until the helper is over. */
  async serve(agi: Agi): Promise<void> {
    const id = agi.env.uniqueid;
    const pending = this.pending.get(id);
    if (!pending) {
      this.runtime.log.warn({ uniqueid: id }, 'a helper channel nobody here is waiting for (given up, or placed by another process): ended');
      return;
    }
    this.pending.delete(id);
    const helper = new HelperChannel(id, pending.target, agi, this.runtime.requireAmi('helperChannel'), pending.log);
    pending.deliver(helper);
    await helper.done;
  }
}
