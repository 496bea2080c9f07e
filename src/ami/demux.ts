/**
 * Per-channel routing of AMI events in O(1): subscriptions in maps keyed by the ids an event
 * carries, so an event costs a few map lookups whatever the number of calls. Pure: no I/O.
 *
 * What an event is routed by:
 * - channel subscriptions ({@link EventDemux.channel}) get events whose `Uniqueid` or
 *   `DestUniqueid` is theirs. `Uniqueid` is the channel an event is about (Newstate, Hangup,
 *   VarSet, DTMFEnd, Newexten, UserEvent, AGIExecStart, OriginateResponse, ...); `DestUniqueid` is
 *   the second channel of two-channel events (DialBegin/DialState/DialEnd: the callee), so a
 *   callee's subscription learns that it is being dialed and how the dial ended. An event whose two
 *   ids are equal is delivered once.
 * - linked subscriptions ({@link EventDemux.linked}) get events whose `Linkedid` is theirs: every
 *   channel of a call chain (both halves of a Local channel, the legs a Dial created), for code that
 *   follows a whole call rather than one channel.
 * Events with neither (FullyBooted, Reload, PeerStatus, ...) reach only the global `event` stream.
 *
 * An unsubscribed id leaves nothing behind: its map entry is deleted with its last subscription.
 *
 * @module
 */

import type { AmiMessage } from './message.js';

/** Receives the events of a subscription. */
export type AmiEventListener = (event: AmiMessage) => void;

/** A subscription made with {@link AmiClient.channel} or {@link AmiClient.linked}. */
export interface AmiSubscription {
  /** The id subscribed to. */
  readonly id: string;
  /** `false` once unsubscribed. */
  readonly active: boolean;
  /** Stops the events and frees the subscription. Safe to call twice. */
  unsubscribe(): void;
}

/** Options of a subscription. */
export interface AmiSubscribeOptions {
  /** Unsubscribes when aborted (e.g. the call's lifetime). */
  signal?: AbortSignal;
}

type Index = Map<string, Set<Subscription>>;

/**
 * The subscriptions tied to one AbortSignal, behind a single abort listener: many subscriptions on
 * one signal (a consumer-wide shutdown signal) add one listener, not one each.
 */
class SignalWatch {
  readonly subscriptions = new Set<Subscription>();
  private readonly onAbort = (): void => {
    for (const subscription of [...this.subscriptions]) subscription.unsubscribe();
  };

  constructor(
    private readonly signal: AbortSignal,
    private readonly watches: WeakMap<AbortSignal, SignalWatch>,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
    watches.set(signal, this);
  }

  /** Forgets a subscription; the last one removes the listener. */
  remove(subscription: Subscription): void {
    if (!this.subscriptions.delete(subscription) || this.subscriptions.size > 0) return;
    this.signal.removeEventListener('abort', this.onAbort);
    this.watches.delete(this.signal);
  }
}

class Subscription implements AmiSubscription {
  active = true;
  watch: SignalWatch | undefined;

  constructor(
    readonly id: string,
    readonly listener: AmiEventListener,
    private readonly index: Index,
  ) {}

  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    const set = this.index.get(this.id);
    if (set?.delete(this) && set.size === 0) this.index.delete(this.id);
    this.watch?.remove(this);
    this.watch = undefined;
  }
}

/** Counts of what {@link EventDemux} holds. */
export interface DemuxStats {
  /** Distinct uniqueids with at least one channel subscription. */
  readonly channels: number;
  /** Distinct linkedids with at least one linked subscription. */
  readonly linked: number;
}

/** The subscription tables and the routing of one event to them. */
export class EventDemux {
  private readonly byChannel: Index = new Map();
  private readonly byLinked: Index = new Map();
  private readonly watches = new WeakMap<AbortSignal, SignalWatch>();

  constructor(
    /** Called when a listener throws; the other listeners still get the event. */
    private readonly onListenerError: (error: unknown, event: AmiMessage) => void,
  ) {}

  /** Subscribe to the events of one channel (by `Uniqueid`, also as `DestUniqueid`). */
  channel(uniqueid: string, listener: AmiEventListener, options: AmiSubscribeOptions = {}): AmiSubscription {
    return this.add(this.byChannel, uniqueid, listener, options);
  }

  /** Subscribe to the events of every channel of a call chain (by `Linkedid`). */
  linked(linkedid: string, listener: AmiEventListener, options: AmiSubscribeOptions = {}): AmiSubscription {
    return this.add(this.byLinked, linkedid, listener, options);
  }

  /** Hands an event to the subscriptions it belongs to. */
  dispatch(event: AmiMessage): void {
    if (this.byChannel.size > 0) {
      const uniqueid = event.get('Uniqueid');
      if (uniqueid !== undefined) this.deliver(this.byChannel.get(uniqueid), event);
      const dest = event.get('DestUniqueid');
      if (dest !== undefined && dest !== uniqueid) this.deliver(this.byChannel.get(dest), event);
    }
    if (this.byLinked.size > 0) {
      const linkedid = event.get('Linkedid');
      if (linkedid !== undefined) this.deliver(this.byLinked.get(linkedid), event);
    }
  }

  get stats(): DemuxStats {
    return { channels: this.byChannel.size, linked: this.byLinked.size };
  }

  private add(index: Index, id: string, listener: AmiEventListener, options: AmiSubscribeOptions): AmiSubscription {
    const subscription = new Subscription(id, listener, index);
    let set = index.get(id);
    if (!set) index.set(id, (set = new Set()));
    set.add(subscription);
    const { signal } = options;
    if (signal?.aborted) subscription.unsubscribe();
    else if (signal) {
      subscription.watch = this.watches.get(signal) ?? new SignalWatch(signal, this.watches);
      subscription.watch.subscriptions.add(subscription);
    }
    return subscription;
  }

  private deliver(set: Set<Subscription> | undefined, event: AmiMessage): void {
    if (!set) return;
    for (const subscription of set) {
      try {
        subscription.listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}
