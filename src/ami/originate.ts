/**
 * `Originate`, the one helper action with many options: their mapping onto AMI fields (a table) and
 * the reading of its outcome, the `OriginateResponse` event. Pure.
 *
 * @module
 */

import type { AmiFields, AmiMessage } from './message.js';

/** Options of {@link AmiClient.originate}: where to call, and where the answered channel goes. */
export interface AmiOriginateOptions {
  /** Dial string, e.g. `PJSIP/alice` or `Local/s@far/n`. */
  channel: string;
  /** Dialplan target of the answered channel: context, extension, priority (default 1). */
  context?: string;
  exten?: string;
  priority?: number | string;
  /** Or an application to run instead of the dialplan (then no PBX runs on the channel). */
  application?: string;
  data?: string;
  /**
   * Uniqueid of the new channel, chosen by you (e.g. a UUID), so that you can subscribe to its events
   * ({@link AmiClient.channel}) before they start. A Local channel's second half gets `<id>;2`
   * unless `otherChannelId` says otherwise.
   */
  channelId?: string;
  otherChannelId?: string;
  /** `"Name" <number>`. */
  callerId?: string;
  /** How long it may ring, in ms (Asterisk's default: 30,000). */
  timeoutMs?: number;
  /** Channel variables set on the new channel. */
  variables?: Readonly<Record<string, string>>;
  account?: string;
  /** Comma-separated codec list, e.g. `ulaw,alaw`. */
  codecs?: string;
  /** Run the target on early media (progress) instead of answer. */
  earlyMedia?: boolean;
}

/** Outcome of an originate, from its `OriginateResponse` event. */
export interface AmiOriginateResult {
  /** The call was answered (`Response: Success`). */
  success: boolean;
  /**
   * Asterisk's reason code (`main/pbx.c`): 4 answered, 5 busy, 8 congestion, 3 rang without answer
   * (or never rang) until the timeout, 1 hung up, 0 failed (also: the far end hung up before answer).
   */
  reason: number;
  /** Uniqueid of the originated channel (the `channelId` when one was given). */
  uniqueid: string | undefined;
  /** The channel name when it was created, else the dial string. */
  channel: string | undefined;
  /** The `Response: Success` that queued the originate. */
  response: AmiMessage;
  /** The `OriginateResponse` event itself. */
  event: AmiMessage;
}

/** Option name → AMI field, or a function giving the fields of its value. */
type FieldMap<O> = { readonly [K in keyof O]-?: string | ((value: NonNullable<O[K]>) => AmiFields) };

/** How each originate option is sent. */
export const ORIGINATE_FIELDS: FieldMap<AmiOriginateOptions> = {
  channel: 'Channel',
  context: 'Context',
  exten: 'Exten',
  priority: 'Priority',
  application: 'Application',
  data: 'Data',
  channelId: 'ChannelId',
  otherChannelId: 'OtherChannelId',
  callerId: 'CallerID',
  timeoutMs: 'Timeout',
  variables: (variables) => ({ Variable: Object.entries(variables).map(([name, value]) => `${name}=${value}`) }),
  account: 'Account',
  codecs: 'Codecs',
  earlyMedia: (on) => ({ EarlyMedia: on ? 'true' : undefined }),
};

/**
 * The fields of an asynchronous originate (`Async: true`: a synchronous one would hold the whole
 * AMI session until the call is answered). Priority 1 when a context is given without one.
 */
export function originateFields(options: AmiOriginateOptions): AmiFields {
  const fields: Record<string, AmiFields[string]> = {};
  const withDefaults: AmiOriginateOptions = options.context !== undefined && options.priority === undefined ? { ...options, priority: 1 } : options;
  for (const key of Object.keys(ORIGINATE_FIELDS) as Array<keyof AmiOriginateOptions>) {
    const value = withDefaults[key];
    if (value === undefined) continue;
    const to = ORIGINATE_FIELDS[key] as string | ((value: unknown) => AmiFields);
    if (typeof to === 'string') fields[to] = value as AmiFields[string];
    else Object.assign(fields, to(value));
  }
  fields['Async'] = 'true';
  return fields;
}

/** Reads an `OriginateResponse` event. */
export function originateResult(response: AmiMessage, event: AmiMessage): AmiOriginateResult {
  const reason = Number.parseInt(event.get('Reason') ?? '', 10);
  return {
    success: event.get('Response')?.toLowerCase() === 'success',
    reason: Number.isNaN(reason) ? 0 : reason,
    uniqueid: event.get('Uniqueid'),
    channel: event.get('Channel'),
    response,
    event,
  };
}

/** The default deadline of an originate: its ring time (Asterisk's default 30 s) plus an action's. */
export function originateDeadlineMs(options: AmiOriginateOptions, actionTimeoutMs: number): number {
  return (options.timeoutMs ?? 30_000) + actionTimeoutMs;
}
