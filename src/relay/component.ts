/**
 * Components and actions: what a Relay method runs on a call, and the handle an `*Async` method
 * returns for it.
 *
 * A {@link Component} is a {@link CallJob} (the one abstraction for things running on a call)
 * that belongs to a {@link Call}: it has the seed's `controlId` and `payload`, takes the call's
 * foreground lane while it drives the AGI session, and emits the seed's events as its state moves.
 * An {@link Action} is the seed's `*Action` object around it: `state`, `completed`, `result`,
 * `stop()`; `PlayAction` and friends add their controls. A blocking method starts the component and
 * awaits its result; the `*Async` one returns the action; so each pair is one implementation.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { Agi } from '../agi/agi.js';
import { CallJob } from '../media/job.js';
import type { Call } from './call.js';
import type { LaneOptions } from './lane.js';
import type { RelayResult, StopResult } from './results.js';

/** The kinds of component, named as the seed's event prefixes (`play.finished`, ...). */
export type ComponentKind = 'play' | 'prompt' | 'record' | 'sendDigits' | 'detect' | 'connect' | 'tap' | 'fax';

/** Options every Relay method takes. */
export interface MethodOptions extends Pick<LaneOptions, 'queue' | 'preempt'> {
  /** Aborting stops the action (a blocking method then resolves with its unsuccessful result). */
  signal?: AbortSignal;
}

/** A thing a Relay method runs on a call; see the module comment. */
export abstract class Component<R extends RelayResult, S extends string> extends CallJob<R, S> {
  /** The seed's `control_id`: a UUID naming this component. */
  readonly controlId = randomUUID();
  /** The action handle, once one was made for it. */
  handle: Action<R, S> | undefined;
  /** Makes a queued component give up its wait for the lane when stopped; made only when it may wait. */
  private unqueue: AbortController | undefined;
  private holdsLane = false;

  protected constructor(
    readonly call: Call,
    readonly kind: ComponentKind,
    /** What was asked, in the seed's terms (the seed's `payload`). */
    readonly payload: Readonly<Record<string, unknown>>,
    initialState: S,
    private readonly laneOptions: Pick<LaneOptions, 'queue' | 'preempt'> = {},
  ) {
    super(initialState);
  }

  /** A name for logs and lane messages, e.g. `play 4f1c…`. */
  get name(): string {
    return `${this.kind} ${this.controlId}`;
  }

  /**
   * Runs `work` with the call's AGI session while holding the call's foreground lane (waiting for
   * it per the method's `queue`/`preempt` options).
   *
   * @throws CallNotControllableError when the call has no AGI session (ended, or AMI-only)
   */
  protected async inLane<T>(work: (agi: Agi) => Promise<T>): Promise<T> {
    // A free lane is taken at once; only a component that must queue (or was stopped) needs the signal.
    const lane = this.call.lane;
    let release = this.unqueue ? undefined : lane.take(this);
    if (!release) {
      this.unqueue ??= new AbortController();
      release = await lane.acquire(this, { ...this.laneOptions, signal: this.unqueue.signal });
    }
    this.holdsLane = true;
    try {
      // While the call is away from AGI (a Redirect on its way back), this waits for the new session.
      return await work(await this.call.agiForLane(this.kind));
    } finally {
      this.holdsLane = false;
      release();
    }
  }

  /** One attempt at ending the component: a queued one leaves the queue; a running one {@link haltRunning}. */
  protected halt(deadline: number): void | Promise<void> {
    if (!this.holdsLane) {
      (this.unqueue ??= new AbortController()).abort();
      return;
    }
    return this.haltRunning(deadline);
  }

  /** How to make the running work end (interrupt the command, ask Asterisk over AMI...). Must not throw. */
  protected abstract haltRunning(deadline: number): void | Promise<void>;
}

/**
 * The seed's `*Action`: the handle of a component an `*Async` method started. Subclasses add
 * controls (`PlayAction.pause()` ...).
 */
export class Action<R extends RelayResult, S extends string = string> {
  constructor(protected readonly component: Component<R, S>) {
    component.handle = this;
  }

  /** UUID naming the component (the seed's `control_id`). */
  get controlId(): string {
    return this.component.controlId;
  }

  /** What was asked (the seed's `payload`). */
  get payload(): Readonly<Record<string, unknown>> {
    return this.component.payload;
  }

  /** The component's current state, in the seed's words. */
  get state(): S {
    return this.component.state;
  }

  /** `true` once it has ended. */
  get completed(): boolean {
    return this.component.completed;
  }

  /** The final result once it has ended, `undefined` until then. */
  get result(): R | undefined {
    return this.component.result;
  }

  /** Resolves with the final result once it has ended. Never rejects. */
  get done(): Promise<R> {
    return this.component.done;
  }

  /** The call it runs on. */
  get call(): Call {
    return this.component.call;
  }

  /** Stops it; `successful` once it has ended (at once when it already had). */
  async stop(): Promise<StopResult> {
    return { successful: await this.component.stop() };
  }
}

/**
 * Starts `component` and returns its action made by `makeAction`: the one implementation behind each
 * sync/async method pair (`xAsync()` returns this; `x()` awaits its `done`). With `queue: false`
 * while the lane is held it throws `CallBusyError` before anything starts, unless `needsLane` says
 * this component runs beside the lane (e.g. over AMI). Aborting `options.signal` stops the
 * component; an already aborted signal stops it before it starts, so its work sends nothing.
 *
 * @throws CallBusyError as said
 * @throws CallNotControllableError (`no-agi`) when it needs the lane and the call has no AGI session
 *   and expects none (a leg known through AMI only)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a component's result and state types vary; the action is typed by makeAction
export function startAction<C extends Component<any, any>, A>(component: C, makeAction: (component: C) => A, options: MethodOptions = {}, needsLane = true): A {
  if (needsLane) {
    component.call.assertControllable(component.kind);
    component.call.lane.assertAvailable(component.kind, options);
  }
  const action = makeAction(component);
  const { signal } = options;
  const onAbort = (): void => void component.stop();
  if (signal?.aborted) onAbort();
  component.start();
  if (signal && !signal.aborted) {
    signal.addEventListener('abort', onAbort, { once: true });
    void component.done.then(() => signal.removeEventListener('abort', onAbort));
  }
  return action;
}
