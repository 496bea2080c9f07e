/**
 * `connect()` / `connectAsync()` / `disconnect()`: the call is bridged to a new outbound call to
 * one of a list of devices, tried in series and parallel groups (devices.ts has the shapes).
 *
 * Mechanism (docs/relay-connect.md): in the call's lane, one `EXEC Dial(<dev1>&<dev2>,<timeout>,g…)`
 * per serial group; `DIALSTATUS` says how a group ended, and the next group is tried unless one
 * answered. With AMI, the caller's `DialBegin` events give each dialled leg (`DestUniqueid`), tracked
 * as a {@link Call} known through AMI only (`runtime.trackCall`), and `DialEnd` `ANSWER` gives the
 * remote leg: the result resolves then, while the legs are bridged. `Dial` returns once the bridge
 * ends (the remote party hung up, or was disconnected); `g` gives the caller's AGI control back,
 * the lane is released, and `connect.disconnected` is emitted. Without AMI the result is known only
 * when `Dial` returns, and has no remote `Call`.
 *
 * `stop()` before an answer hangs the ringing legs up over AMI (`Dial` then returns and no further
 * group is tried); after it, it hangs the remote leg up. `disconnect()` is an AMI `Redirect` of the
 * remote leg to `[relay-resume]` (`remote.returnToAgi()`): the bridge dissolves, the caller's `Dial`
 * returns, and both legs stay up, each with an AGI session of its own.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import type { AmiMessage } from '../ami/message.js';
import { AgiAbortError, AgiHangupError, AgiInterruptedError } from '../errors.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from '../media/call.js';
import { agiEvent, type Call } from './call.js';
import { Action, Component, startAction, type MethodOptions } from './component.js';
import { deviceOfDialBegin, dialGroups, dialOutcome, parseDevices, type DeviceList, type DialGroup, type PhoneDevice } from './devices.js';
import { CallNotControllableError, RelayCapabilityError } from './errors.js';
import type { ConnectResult, RelayEvent, StopResult } from './results.js';
import { settledWithin } from './wait.js';

/**
 * `connecting` while devices ring; `connected` once one answered (the end state of a successful
 * connect: its result is then known); `failed` when none did; `disconnected` once the bridge has
 * ended, or when it was stopped before anyone answered.
 */
export type ConnectState = 'connecting' | 'connected' | 'failed' | 'disconnected';

/** How often `stop()` hangs up again the legs that `DialBegin` announced since (ms). */
const STOP_RETRY_MS = 200;

/**
 * How long an answered `Dial` that returned before its `DialEnd` waits for it (ms): AMI sends channel
 * events through Stasis, so a bridge shorter than that lag ends before the event comes.
 */
const DIAL_END_LAG_MS = 2000;

/** A leg `Dial` placed, known from its `DialBegin`. */
interface DialledLeg {
  readonly call: Call;
  readonly device: PhoneDevice;
}

/** The connect running on each call (at most one: it holds the call's lane while bridged). */
const activeConnects = new WeakMap<Call, ConnectComponent>();

/** One `connect` on a call. */
class ConnectComponent extends Component<ConnectResult, ConnectState> {
  protected readonly haltRetryMs = STOP_RETRY_MS;
  /** The legs of the group `Dial` rings now, by `Uniqueid`. */
  private readonly legs = new Map<string, DialledLeg>();
  private group: DialGroup | undefined;
  private taken = new Set<number>();
  private remoteLeg: DialledLeg | undefined;
  private resolveConnected: ((result: ConnectResult) => void) | undefined;
  /** Resolves when `DialEnd` `ANSWER` came (with AMI). */
  private connected: Promise<ConnectResult> = new Promise(() => undefined);
  /** Resolves once `Dial` has returned for good (the lane is free again). */
  private dialEnded: Promise<void> = Promise.resolve();

  constructor(
    call: Call,
    private readonly groups: readonly DialGroup[],
    options: MethodOptions,
  ) {
    super(call, 'connect', { devices: groups.map((group) => group.devices) }, 'connecting', { queue: options.queue, preempt: options.preempt });
  }

  /** The remote leg once connected (with AMI), else `undefined`. */
  get remote(): Call | undefined {
    return this.remoteLeg?.call;
  }

  /** Resolves once the caller's `Dial` has returned (bridge over, lane free). */
  get dialDone(): Promise<void> {
    return this.dialEnded;
  }

  protected async execute(): Promise<ConnectResult> {
    this.call.fireAction('connect.stateChange', this.handle);
    this.call.fireAction('connect.connecting', this.handle);
    this.connected = new Promise<ConnectResult>((resolve) => {
      this.resolveConnected = resolve;
    });
    const dialing = this.inLane((agi) => this.dialAll(agi));
    this.dialEnded = dialing.then(
      () => this.afterDial(),
      () => this.afterDial(),
    );
    return Promise.race([this.connected, dialing]);
  }

  protected failed(error: unknown): ConnectResult {
    const interrupted = error instanceof AgiAbortError || error instanceof AgiInterruptedError || error instanceof AgiHangupError;
    if (this.stopRequested && (interrupted || (error instanceof CallNotControllableError && error.why === 'ended'))) return this.unsuccessful(null, null);
    if (!interrupted && !(error instanceof CallNotControllableError)) this.call.log.warn({ err: error, controlId: this.controlId }, 'connect failed');
    return this.unsuccessful({ name: 'call.ended', payload: {} }, null);
  }

  protected endState(result: ConnectResult): ConnectState {
    if (result.successful) return 'connected';
    // Stopped before anyone answered: it never connected.
    return this.stopRequested ? 'disconnected' : 'failed';
  }

  protected override stateChanged(state: ConnectState): void {
    this.call.fireAction('connect.stateChange', this.handle);
    this.call.fireAction(`connect.${state}`, this.handle);
  }

  /** Hangs the legs ringing now up (before an answer): `Dial` returns, and no further group is tried. */
  protected async haltRunning(): Promise<void> {
    await Promise.all(
      [...this.legs.values()].map((leg) =>
        leg.call.ended ? undefined : leg.call.hangup({ reason: 'cancel' }).catch((error: unknown) => this.call.log.debug({ err: error }, 'connect: hanging a ringing leg up failed')),
      ),
    );
  }

  /**
   * Ends the connect, also once connected (the job itself has then completed, its result known):
   * the remote leg is hung up and this resolves once the caller's `Dial` has returned, so that a
   * method with `preempt: true` on the caller ends the bridge. Without a remote `Call` (no AMI) a
   * connected connect cannot be ended from here: it resolves at once.
   */
  override async stop(options: { timeoutMs?: number } = {}): Promise<boolean> {
    if (!this.completed) return super.stop(options);
    const remote = this.remote;
    if (remote && activeConnects.get(this.call) === this) {
      // A lane holder's stop must not throw (the lane calls it without waiting).
      const hungUp = await remote.hangup().then(
        () => true,
        (error: unknown) => {
          this.call.log.warn({ err: error }, 'connect: hanging the remote leg up failed');
          return false;
        },
      );
      if (!hungUp) return false;
      await this.dialEnded;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------

  /** Dials the groups one after the other, in the lane, until one answers; resolves once `Dial` has returned. */
  private async dialAll(agi: Agi): Promise<ConnectResult> {
    // Set in the lane: a connect queued behind a bridged one must not take its place.
    activeConnects.set(this.call, this);
    const off = this.call.ami?.onEvents(['DialBegin', 'DialEnd'], (event) => this.onDialEvent(event));
    try {
      let last: ConnectResult = this.unsuccessful(null, null);
      for (const group of this.groups) {
        if (this.stopRequested) break;
        this.group = group;
        this.taken = new Set();
        this.legs.clear();
        // A bridge lasts as long as the conversation: a session-wide command timeout must not abandon it.
        await agi.exec('Dial', ...group.dialArguments, { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS });
        const dialStatus = (await agi.getVariable('DIALSTATUS')) ?? '';
        const event = agiEvent('EXEC', { application: 'Dial', DIALSTATUS: dialStatus });
        if (dialOutcome(dialStatus) === 'answered') {
          if (this.call.ami && !this.remoteLeg) await settledWithin(this.connected, DIAL_END_LAG_MS);
          // With AMI the result resolved at DialEnd; without, this is the first word of the answer.
          return { successful: !this.stopRequested, event, call: this.remote ?? null, device: this.remoteLeg?.device ?? null, dialStatus };
        }
        last = this.unsuccessful(event, dialStatus);
        this.call.log.debug({ dialStatus, devices: group.dialStrings }, 'connect: a group did not answer');
      }
      return last;
    } finally {
      off?.();
    }
  }

  /** `DialBegin`: a leg of the group rings (tracked as a Call); `DialEnd` `ANSWER`: connected. */
  private onDialEvent(event: AmiMessage): void {
    if (event.get('Uniqueid') !== this.call.id || !this.group) return;
    const id = event.get('DestUniqueid') ?? '';
    if (event.get('Event') === 'DialBegin') {
      const index = deviceOfDialBegin(this.group, event.get('DestChannel') ?? '', event.get('DialString') ?? '', this.taken);
      if (index === undefined || id === '') return;
      this.taken.add(index);
      const device = this.group.devices[index]!;
      const leg = this.call.runtime.trackCall({
        id,
        context: this.call.context,
        fromNumber: device.fromNumber ?? this.call.fromNumber,
        toNumber: device.toNumber,
        timeout: device.timeout,
        channel: event.get('DestChannel'),
      });
      // Its Newchannel came before DialBegin: it exists.
      leg.advance('created');
      this.legs.set(id, { call: leg, device });
      if (this.stopRequested) void this.haltRunning();
      else this.armDeviceTimeout(leg, device, this.group);
      return;
    }
    const leg = this.legs.get(id);
    if (event.get('DialStatus') !== 'ANSWER' || !leg || this.remoteLeg) return;
    if (this.stopRequested) {
      // Answered as it was being stopped: the stop wins (Dial then returns, unsuccessful).
      void leg.call.hangup().catch((error: unknown) => this.call.log.debug({ err: error }, 'connect: hanging up a leg that answered during stop() failed'));
      return;
    }
    this.remoteLeg = leg;
    leg.call.markAnswered();
    this.resolveConnected?.({ successful: true, event: { name: 'ami.DialEnd', payload: event.toObject() }, call: leg.call, device: leg.device, dialStatus: 'ANSWER' });
  }

  /**
   * `Dial` has one timeout per group (the longest device's); a device with a shorter one is hung up
   * over AMI when its own timeout passes unanswered (reason `noAnswer`, cause 19), while the others
   * ring on.
   */
  private armDeviceTimeout(leg: Call, device: PhoneDevice, group: DialGroup): void {
    if (String(Math.ceil(device.timeout)) === group.dialArguments[1]) return;
    const timer = setTimeout(() => {
      if (this.group !== group || this.remoteLeg || leg.answered || !leg.active) return;
      leg.hangup({ reason: 'noAnswer' }).catch((error: unknown) => this.call.log.debug({ err: error }, 'connect: hanging a device up at its timeout failed'));
    }, device.timeout * 1000);
    timer.unref();
    void leg.waitForEnded().then(() => clearTimeout(timer));
  }

  /** `Dial` has returned: a connected connect is now disconnected (after its result is out). */
  private async afterDial(): Promise<void> {
    if (activeConnects.get(this.call) === this) activeConnects.delete(this.call);
    const result = await this.done;
    if (result.successful) this.setState('disconnected');
  }

  private unsuccessful(event: RelayEvent | null, dialStatus: string | null): ConnectResult {
    return { successful: false, event, call: null, device: null, dialStatus };
  }
}

/** The seed's `ConnectAction`: `state`, `completed`, `result`, `stop()`. */
export class ConnectAction extends Action<ConnectResult, ConnectState> {
  /**
   * Ends the connect: before anyone answered, the ringing legs are hung up and no further device is
   * tried (the result is then unsuccessful); once connected, the remote leg is hung up and this
   * resolves when the caller is free again. Successful once it has ended.
   *
   * @throws RelayCapabilityError without AMI (Dial's legs are reachable only through it)
   */
  override async stop(): Promise<StopResult> {
    this.call.requireAmi('ConnectAction.stop');
    return super.stop();
  }
}

/**
 * Starts a connect on `call` (see the module comment) and returns its action.
 *
 * @throws RelayArgumentError for a bad device list, or a dial string the resolver made that `Dial` would misread
 * @throws RelayCapabilityError for a `signal` without AMI (nothing could stop the `Dial`)
 * @throws CallBusyError with `queue: false` while the lane is held
 */
export function connectAsync(call: Call, devices: DeviceList, options: MethodOptions = {}): Promise<ConnectAction> {
  return Promise.resolve().then(() => {
    const groups = dialGroups(parseDevices(devices), (device) => call.runtime.resolveDevice(device));
    if (options.signal && !call.ami) throw new RelayCapabilityError('ami', 'connect', 'a signal stops the Dial by hanging its legs up');
    return startAction(new ConnectComponent(call, groups, options), (component) => new ConnectAction(component), options);
  });
}

/** {@link connectAsync}, resolving with the result: once connected (the legs bridged) or failed. */
export async function connect(call: Call, devices: DeviceList, options: MethodOptions = {}): Promise<ConnectResult> {
  return (await connectAsync(call, devices, options)).done;
}

/**
 * Ends the bridge of `call`'s connect while keeping both legs up: the remote leg is redirected to
 * `[relay-resume]` and comes back as an AGI-controlled {@link Call} (`result.call`); resolves once
 * it has and the caller's `Dial` has returned (the caller's lane is free). `false` when no connect
 * is connected on the call, or the remote leg did not come back.
 *
 * @throws RelayCapabilityError without AMI or this process's FastAGI address
 */
export async function disconnect(call: Call): Promise<{ successful: boolean }> {
  call.requireAmi('disconnect');
  call.runtime.requireOwner('disconnect');
  const connection = activeConnects.get(call);
  const remote = connection?.remote;
  if (!connection || !remote || !connection.completed) return { successful: false };
  const back = await remote.returnToAgi();
  await connection.dialDone;
  return { successful: back };
}
