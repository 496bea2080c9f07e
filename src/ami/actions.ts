/**
 * The actions of an AMI client in flight: each has a deadline counted from the call, waits in a
 * queue while there is no connection, and once sent is matched by `ActionID` with its response and,
 * for event lists and `Originate`, with the events that finish it. No sockets here: the client
 * writes the text and reports what arrives.
 *
 * @module
 */

import { AmiActionError, AmiArgumentError, AmiError, AmiLoginError, AmiTimeoutError } from './errors.js';
import { encodeAction, type AmiFields, type AmiMessage } from './message.js';

/** Response and events of an action that answers with an event list (`EventList: start`). */
export interface AmiEventListResult {
  response: AmiMessage;
  /** The list's events, without the final `...Complete` event. */
  events: AmiMessage[];
  /** The final event (`EventList: Complete`). */
  complete: AmiMessage;
}

/** What finishes an action: its response, the end of its event list, or a named event (`OriginateResponse`). */
export type Completion = { kind: 'response' } | { kind: 'list'; events: AmiMessage[] } | { kind: 'event'; event: string };

/** One action from the call to its end. */
export interface PendingAction {
  readonly name: string;
  readonly id: string;
  /** The encoded action. */
  readonly text: string;
  readonly completion: Completion;
  readonly timeoutMs: number;
  resolve: (value: unknown) => void;
  reject: (error: AmiError) => void;
  timer: NodeJS.Timeout | undefined;
  /** The connection it was sent on (compared by identity only). */
  connection: object | undefined;
  /** The response, when the action finishes later (list, event). */
  response: AmiMessage | undefined;
}

/** Queued and sent actions. */
export class ActionTable {
  private readonly sent = new Map<string, PendingAction>();
  private readonly queued = new Set<PendingAction>();
  /** Sent actions that finish on an event: only then do events need an ActionID lookup. */
  private awaitingEvents = 0;
  private nextId = 0;
  private readonly idPrefix = `agikit-${process.pid}-${Math.random().toString(36).slice(2, 8)}-`;

  /** A new action with its deadline running; `undefined` (and rejected) if it cannot be encoded. */
  create(
    name: string,
    fields: AmiFields,
    completion: Completion,
    timeoutMs: number,
    resolve: (value: unknown) => void,
    reject: (error: AmiError) => void,
  ): PendingAction | undefined {
    const id = `${this.idPrefix}${++this.nextId}`;
    let text: string;
    try {
      text = encodeAction(name, id, fields);
    } catch (error) {
      reject(error instanceof AmiError ? error : new AmiArgumentError(String(error)));
      return undefined;
    }
    const entry: PendingAction = { name, id, text, completion, timeoutMs, resolve, reject, timer: undefined, connection: undefined, response: undefined };
    entry.timer = setTimeout(() => this.expire(entry), timeoutMs);
    return entry;
  }

  /** Holds an action until there is a connection. */
  queue(entry: PendingAction): void {
    this.queued.add(entry);
  }

  /** Takes the queued actions, oldest first. */
  dequeueAll(): PendingAction[] {
    const entries = [...this.queued];
    this.queued.clear();
    return entries;
  }

  /** Records an action as sent on `connection`; returns the text to write. */
  send(entry: PendingAction, connection: object): string {
    entry.connection = connection;
    this.sent.set(entry.id, entry);
    if (entry.completion.kind !== 'response') this.awaitingEvents += 1;
    return entry.text;
  }

  /** Finishes the action a response belongs to; `false` if it belongs to none (late, or not ours). */
  response(message: AmiMessage): boolean {
    const entry = this.byActionId(message);
    if (!entry) return false;
    if (message.get('Response')?.toLowerCase() === 'error') {
      this.forget(entry);
      entry.reject(entry.name === 'Login' ? new AmiLoginError(entry.name, message) : new AmiActionError(entry.name, message));
      return true;
    }
    const { completion } = entry;
    if (completion.kind === 'event' || (completion.kind === 'list' && message.get('EventList')?.toLowerCase() === 'start')) {
      entry.response = message;
    } else {
      this.forget(entry);
      // Some list actions answer "Success" without a list when there is nothing to list.
      entry.resolve(completion.kind === 'list' ? ({ response: message, events: [], complete: message } satisfies AmiEventListResult) : message);
    }
    return true;
  }

  /**
   * Gives an event to the action whose ActionID it carries, if any. `true` if it belongs to that
   * action only (an event list's item); the final event of an `Originate` is about a channel too, so
   * it is also for listeners (`false`).
   */
  event(event: AmiMessage): boolean {
    if (this.awaitingEvents === 0) return false;
    const entry = this.byActionId(event);
    if (!entry) return false;
    const { completion } = entry;
    if (completion.kind === 'list') {
      if (event.get('EventList')?.toLowerCase() === 'complete') {
        this.forget(entry);
        entry.resolve({ response: entry.response ?? event, events: completion.events, complete: event } satisfies AmiEventListResult);
      } else {
        completion.events.push(event);
      }
      return true;
    }
    if (completion.kind === 'event' && event.get('Event')?.toLowerCase() === completion.event.toLowerCase()) {
      this.forget(entry);
      entry.resolve({ response: entry.response ?? event, event });
    }
    return false;
  }

  /** Rejects the sent actions (all, or those sent on `connection`). */
  rejectSent(error: (entry: PendingAction) => AmiError, connection?: object): void {
    for (const entry of [...this.sent.values()]) {
      if (connection !== undefined && entry.connection !== connection) continue;
      this.forget(entry);
      entry.reject(error(entry));
    }
  }

  /** Rejects the queued actions. */
  rejectQueued(error: (entry: PendingAction) => AmiError): void {
    for (const entry of this.dequeueAll()) {
      clearTimeout(entry.timer);
      entry.reject(error(entry));
    }
  }

  get sentCount(): number {
    return this.sent.size;
  }

  get queuedCount(): number {
    return this.queued.size;
  }

  private byActionId(message: AmiMessage): PendingAction | undefined {
    const id = message.get('ActionID');
    return id === undefined ? undefined : this.sent.get(id);
  }

  private expire(entry: PendingAction): void {
    entry.timer = undefined;
    if (this.queued.delete(entry)) entry.reject(new AmiTimeoutError(entry.name, entry.timeoutMs, false));
    else if (this.forget(entry)) entry.reject(new AmiTimeoutError(entry.name, entry.timeoutMs, true));
  }

  /** Removes a sent action; `false` if it was already finished. */
  private forget(entry: PendingAction): boolean {
    if (this.sent.get(entry.id) !== entry) return false;
    this.sent.delete(entry.id);
    if (entry.completion.kind !== 'response') this.awaitingEvents -= 1;
    clearTimeout(entry.timer);
    return true;
  }
}
