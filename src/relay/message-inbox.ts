/**
 * {@link MessageInbox}: inbound messages for a consumer's `onIncomingMessage`, each to exactly one
 * consumer serving its context, however many run against the Asterisk.
 *
 * `[relay-messages]` (asterisk-conf/extensions.conf) stores each inbound SIP MESSAGE in the astdb
 * inbox `relay-inbox/<id>` and announces it with `UserEvent(RelayMessage)`. AMI sends that event to
 * every client, so a consumer claims a message before handing it on: AMI `DBDelTree` of its inbox
 * entry is atomic in Asterisk (one SQLite DELETE under astdb's lock, `main/db.c`) and answers
 * `Database entry not found` to everyone but the first. Delivery is at most once: a consumer that
 * dies inside `onIncomingMessage` has the message gone with it.
 *
 * A sweep (`DBGetTree relay-inbox`) at start, after an AMI reconnect and every minute claims what
 * waits in the inbox (messages that arrived while no consumer of their context ran, or whose event
 * was lost with the connection), and drops, whatever their context, entries no one claimed within
 * `maxAgeSeconds` and entries that are not agikit's format.
 *
 * @module
 */

import type { Logger } from 'pino';
import type { AmiClient } from '../ami/client.js';
import { AmiActionError } from '../ami/errors.js';
import type { AmiMessage } from '../ami/message.js';
import { inboundMessage, parseInboxEntry, type InboxEntry, type Message } from './message.js';

/** The astdb family of the inbox. */
export const INBOX_FAMILY = 'relay-inbox';
/** The `UserEvent` name `[relay-messages]` raises. */
export const INBOX_EVENT = 'RelayMessage';

/** What the inbox uses of an AMI client (the event mask must include `user`). */
export type InboxAmi = Pick<AmiClient, 'action' | 'actionList' | 'on' | 'off'>;

/** Options of a {@link MessageInbox}. */
export interface MessageInboxOptions {
  /** The contexts whose messages this consumer takes. */
  readonly contexts: readonly string[];
  /** Hands a claimed message on (the consumer's `onIncomingMessage`). */
  readonly deliver: (message: Message) => Promise<void> | void;
  readonly log: Logger;
  /** Unclaimed entries older than this are dropped by a sweep (default 86400 s). */
  readonly maxAgeSeconds?: number;
  /** Sweep period, besides at start and after a reconnect (default 60 s; 0: none). */
  readonly sweepIntervalSeconds?: number;
  /** The clock (seconds since the epoch), for tests. */
  readonly now?: () => number;
}

/** Claims the inbound messages of some contexts and hands them on; see the module documentation. */
export class MessageInbox {
  private readonly contexts: ReadonlySet<string>;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private closed = false;

  constructor(
    private readonly ami: InboxAmi,
    private readonly options: MessageInboxOptions,
  ) {
    this.contexts = new Set(options.contexts);
  }

  /** Listens for announced messages and sweeps the inbox now, after reconnects and periodically. */
  start(): void {
    this.ami.on('event', this.onEvent);
    this.ami.on('connected', this.onConnected);
    const period = this.options.sweepIntervalSeconds ?? 60;
    if (period > 0) {
      this.timer = setInterval(() => void this.sweep(), period * 1000);
      this.timer.unref();
    }
    void this.sweep();
  }

  /** Stops claiming; resolves once the messages already claimed have been handed on. */
  async close(): Promise<void> {
    this.closed = true;
    this.ami.off('event', this.onEvent);
    this.ami.off('connected', this.onConnected);
    clearInterval(this.timer);
    await this.sweeping;
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Reads the inbox: claims the entries of this consumer's contexts, drops stale and unreadable
   * ones. A sweep asked for while one runs runs again after it.
   */
  sweep(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      try {
        do {
          this.sweepAgain = false;
          await this.sweepOnce();
        } while (this.sweepAgain && !this.closed);
      } catch (error) {
        this.options.log.warn({ err: error }, 'inbound message inbox: sweep failed (retried at the next one)');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    if (this.closed) return;
    const { events } = await this.ami.actionList('DBGetTree', { Family: INBOX_FAMILY });
    const prefix = `/${INBOX_FAMILY}/`;
    const now = (this.options.now ?? (() => Date.now() / 1000))();
    const maxAge = this.options.maxAgeSeconds ?? 86_400;
    for (const event of events) {
      if (this.closed) return;
      const key = event.get('Key') ?? '';
      if (!key.startsWith(prefix)) continue;
      const id = key.slice(prefix.length);
      const entry = parseInboxEntry(id, event.get('Val') ?? '');
      if (!entry) {
        this.options.log.warn({ key }, 'inbound message inbox: an entry that is not agikit\'s format, dropped');
        await this.drop(id);
      } else if (now - entry.receivedAt > maxAge) {
        this.options.log.warn({ id, context: entry.context, ageSeconds: Math.round(now - entry.receivedAt) }, `inbound message for context ${entry.context} dropped: no consumer claimed it within ${maxAge} s`);
        await this.drop(id);
      } else if (this.contexts.has(entry.context)) {
        this.take(entry);
      }
    }
  }

  private readonly onEvent = (event: AmiMessage): void => {
    if (this.closed || event.get('Event') !== 'UserEvent' || event.get('UserEvent') !== INBOX_EVENT) return;
    const id = event.get('Id') ?? '';
    const entry = parseInboxEntry(id, event.get('Message') ?? '');
    if (!entry) return void this.options.log.warn({ id }, `inbound message: a ${INBOX_EVENT} event that is not agikit's format, ignored`);
    if (this.contexts.has(entry.context)) this.take(entry);
  };

  private readonly onConnected = (info: { reconnected: boolean }): void => {
    // Events sent while disconnected are lost: what they announced waits in the inbox.
    if (info.reconnected) void this.sweep();
  };

  /** Claims an entry and, if this consumer got it, hands it on. */
  private take(entry: InboxEntry): void {
    const work = (async () => {
      if (!(await this.claim(entry.id))) return;
      const message = inboundMessage(entry);
      this.options.log.debug({ id: message.id, context: message.context }, 'inbound message claimed');
      try {
        await this.options.deliver(message);
      } catch (error) {
        this.options.log.error({ err: error, id: message.id, context: message.context }, 'onIncomingMessage threw');
      }
    })();
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** `true` if this consumer removed the entry first (it is this consumer's), `false` otherwise. */
  private async claim(id: string): Promise<boolean> {
    try {
      // DBDelTree, not DBDel: only it says whether something was deleted. Its key is a LIKE
      // pattern, which an id of INBOX_ID's characters matches exactly.
      await this.ami.action('DBDelTree', { Family: INBOX_FAMILY, Key: id });
      return true;
    } catch (error) {
      if (error instanceof AmiActionError && error.response.get('Message') === 'Database entry not found') return false;
      this.options.log.error({ err: error, id }, 'inbound message: cannot claim it (DBDelTree needs an AMI user with write=system)');
      return false;
    }
  }

  /** Removes one entry by its exact key (whatever characters it has). */
  private async drop(id: string): Promise<void> {
    try {
      await this.ami.action('DBDel', { Family: INBOX_FAMILY, Key: id });
    } catch (error) {
      this.options.log.warn({ err: error, id }, 'inbound message inbox: cannot drop an entry');
    }
  }
}
