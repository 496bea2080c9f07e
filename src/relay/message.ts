/**
 * The seed's `Relay.Messaging.Message` and the pure parts of messaging: checking what `send` is
 * given, the fields of AMI `MessageSend`, SMS segment counts, the numbers in SIP addresses, and the
 * inbox entries `[relay-messages]` writes for inbound messages. No I/O here: messaging.ts sends,
 * message-inbox.ts receives.
 *
 * @module
 */

import { checkName } from './context-name.js';
import { RelayArgumentError } from './errors.js';

/**
 * States of a message. Outbound: `queued` (agikit has it), `initiated` (handed to Asterisk's
 * `MessageSend`), then `sent` (Asterisk passed it to PJSIP, which sends the SIP MESSAGE) or `failed`
 * (with a reason). Inbound: `received`. `delivered` and `undelivered` are the seed's, kept so that
 * code written for Relay type-checks, but agikit never reports them: Asterisk does not tell whether
 * the far end accepted the MESSAGE (docs/relay-messaging.md).
 */
export type MessageState = 'queued' | 'initiated' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';

/** `outbound`: sent with `messaging.send`; `inbound`: received through `[relay-messages]`. */
export type MessageDirection = 'inbound' | 'outbound';

/** The seed's `Relay.Messaging.Message`: one snapshot, frozen; a state change makes a new one. */
export interface Message {
  /** agikit's id: a UUID for an outbound message, the inbox id for an inbound one. */
  readonly id: string;
  /** The Relay context. */
  readonly context: string;
  /** The number it comes from (the user part of the SIP From). */
  readonly fromNumber: string;
  /** The number it goes to (the user part of the SIP request URI). */
  readonly toNumber: string;
  readonly direction: MessageDirection;
  readonly state: MessageState;
  /** The text (UTF-8 in SIP). */
  readonly body: string;
  /** Always empty: SIP MESSAGE through Asterisk carries text only (no MMS). */
  readonly media: readonly string[];
  /** The tags given to `send` (kept by agikit, not sent); empty for inbound messages. */
  readonly tags: readonly string[];
  /** SMS segments the body takes: GSM-7 (160, or 153 each when concatenated) or UCS-2 (70, or 67). */
  readonly segments: number;
  /** Why it failed; only in state `failed`. */
  readonly reason?: string;
}

/** What `messaging.send` takes: the seed's parameters in camelCase. */
export interface MessageSendParams {
  /** The Relay context the message belongs to (its state changes go to that context's consumer). */
  context: string;
  /** The sender's number: the user part of the SIP From. */
  fromNumber: string;
  /** The recipient's number: the user part of the request URI, sent through the messaging endpoint. */
  toNumber: string;
  /** The text: 1 to {@link MAX_BODY_BYTES} bytes of UTF-8, no NUL. */
  body?: string;
  /** Not supported (text only): a non-empty list is refused. Put links in the body. */
  media?: readonly string[];
  /** Tags kept on the message (not sent). */
  tags?: readonly string[];
}

/**
 * The longest body `send` takes, in bytes of UTF-8. Asterisk's manager reads lines of at most 1024
 * bytes with their CR LF (`main/manager.c`, `get_input`) and drops the whole action otherwise; the
 * body travels as one `Base64Body:` line: 12 + 1008 characters of base64 = 756 bytes.
 */
export const MAX_BODY_BYTES = 756;

/** The SIP header that carries agikit's message id (a `MessageSend` `Variable`, sent as a header). */
export const MESSAGE_ID_HEADER = 'X-Agikit-Message-Id';

/** Numbers: characters a SIP user part carries without escaping (no `@`, `/`, `;`, `:`). */
const NUMBER = /^[A-Za-z0-9+*._~-]{1,64}$/;
/** PJSIP endpoint names and From domains agikit writes into a MessageSend. */
const ENDPOINT = /^[A-Za-z0-9_.+~-]{1,64}$/;
const DOMAIN = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * Checks `send`'s parameters; throws {@link RelayArgumentError} saying what to fix. Nothing is sent
 * then, and no state change is reported.
 */
export function checkSendParams(params: MessageSendParams): void {
  const where = 'messaging.send';
  if (params === null || typeof params !== 'object') throw new RelayArgumentError(`${where}: give { context, fromNumber, toNumber, body }`);
  checkName(params.context, 'context', where);
  for (const key of ['fromNumber', 'toNumber'] as const) {
    const value: unknown = params[key];
    if (typeof value !== 'string' || !NUMBER.test(value)) {
      throw new RelayArgumentError(`${where}: bad ${key} ${JSON.stringify(value) ?? String(value)} (1 to 64 of letters, digits and + * . _ ~ -)`);
    }
  }
  if (params.media !== undefined && (!Array.isArray(params.media) || params.media.length > 0)) {
    throw new RelayArgumentError(`${where}: media is not supported (SIP MESSAGE through Asterisk carries text only); put links in the body`);
  }
  const body: unknown = params.body;
  if (typeof body !== 'string' || body === '') throw new RelayArgumentError(`${where}: a body is required (text only: media is not supported)`);
  if (body.includes('\0')) throw new RelayArgumentError(`${where}: the body contains a NUL character, which Asterisk cannot carry`);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    throw new RelayArgumentError(`${where}: the body is ${bytes} bytes of UTF-8; Asterisk's manager takes at most ${MAX_BODY_BYTES}`);
  }
  if (params.tags !== undefined && (!Array.isArray(params.tags) || !params.tags.every((tag) => typeof tag === 'string'))) {
    throw new RelayArgumentError(`${where}: tags must be a list of strings`);
  }
}

/** Checks a PJSIP endpoint name (messaging options); throws {@link RelayArgumentError}. */
export function checkEndpoint(endpoint: unknown): string {
  if (typeof endpoint !== 'string' || !ENDPOINT.test(endpoint)) {
    throw new RelayArgumentError(`messaging endpoint: bad PJSIP endpoint name ${JSON.stringify(endpoint) ?? String(endpoint)}`);
  }
  return endpoint;
}

/** Checks a From domain (messaging options); throws {@link RelayArgumentError}. */
export function checkDomain(domain: string): string {
  if (!DOMAIN.test(domain)) throw new RelayArgumentError(`messaging fromDomain: bad domain ${JSON.stringify(domain)} (a host name or address, with an optional port)`);
  return domain;
}

/** A new outbound message, in state `queued`. */
export function outboundMessage(id: string, params: MessageSendParams): Message {
  const body = params.body ?? '';
  return Object.freeze({
    id,
    context: params.context,
    fromNumber: params.fromNumber,
    toNumber: params.toNumber,
    direction: 'outbound',
    state: 'queued',
    body,
    media: Object.freeze([]),
    tags: Object.freeze([...(params.tags ?? [])]),
    segments: segmentCount(body),
  });
}

/** The message in a new state (a new frozen snapshot); `reason` only for `failed`. */
export function withState(message: Message, state: MessageState, reason?: string): Message {
  const { reason: _previous, ...rest } = message;
  return Object.freeze(state === 'failed' ? { ...rest, state, reason: reason ?? 'failed' } : { ...rest, state });
}

/**
 * The fields of AMI `MessageSend` for an outbound message: destination `pjsip:PJSIP/<to>@<endpoint>`
 * (the only form that names both the number and the endpoint, relay-probes.md §7), the From (the
 * number alone keeps the endpoint's own domain), the body in base64 (newlines and UTF-8 intact), and
 * the message id as a SIP header.
 */
export function messageSendFields(message: Message, endpoint: string, fromDomain?: string): Record<string, string> {
  return {
    Destination: `pjsip:PJSIP/${message.toNumber}@${endpoint}`,
    From: fromDomain === undefined ? message.fromNumber : `sip:${message.fromNumber}@${fromDomain}`,
    Base64Body: Buffer.from(message.body, 'utf8').toString('base64'),
    Variable: `${MESSAGE_ID_HEADER}=${message.id}`,
  };
}

// --- Segments ----------------------------------------------------------------------------------

/** GSM 03.38 default alphabet (one septet each), without the escape code. */
const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
/** GSM 03.38 extension table: an escape septet plus one, so two septets each. */
const GSM_EXTENDED = new Set('\f^{}\\[~]|€');

/**
 * How many SMS segments a body takes. A body of GSM 03.38 characters only is sent in GSM-7: 160
 * septets in one segment, else 153 per segment (the rest is the concatenation header), an
 * extension character (`^{}\[~]|€` and form feed) taking two septets that are never split across
 * segments. Anything else is sent in UCS-2: 70 UTF-16 units in one segment, else 67 per segment,
 * a character outside the BMP (an emoji) taking two units that are never split. An empty body is
 * one segment.
 */
export function segmentCount(body: string): number {
  const chars = [...body];
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENDED.has(c));
  const single = gsm ? 160 : 70;
  const perSegment = gsm ? 153 : 67;
  const cost = gsm ? (c: string): number => (GSM_EXTENDED.has(c) ? 2 : 1) : (c: string): number => c.length;
  let total = 0;
  for (const c of chars) total += cost(c);
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const c of chars) {
    const units = cost(c);
    if (used + units > perSegment) {
      segments += 1;
      used = 0;
    }
    used += units;
  }
  return segments;
}

// --- Addresses ---------------------------------------------------------------------------------

/**
 * The number in a SIP address as Asterisk gives it: `MESSAGE(to)` is `pjsip:+15550001@127.0.0.1`,
 * `MESSAGE(from)` is `<sip:+15557654@example.test>`, possibly with a display name. Takes what is in
 * angle brackets, drops the scheme (`pjsip:`, `sip:`, `sips:`, `tel:`), the host, URI parameters and
 * percent-escapes. An address it cannot read is returned as it is.
 */
export function addressNumber(address: string): string {
  let text = address.trim();
  const bracketed = /<([^>]*)>/.exec(text);
  if (bracketed) text = bracketed[1] ?? '';
  text = text.replace(/^(?:pjsip|sips?|tel):/i, '');
  text = text.split(/[@;?]/, 1)[0] ?? '';
  try {
    text = decodeURIComponent(text);
  } catch {
    // A stray '%': keep the text as it is.
  }
  return text === '' ? address : text;
}

// --- Inbox entries (inbound) -------------------------------------------------------------------

/** Inbox ids: lower-case letters, digits, `.`, `-` (safe in the LIKE pattern of DBDelTree). */
export const INBOX_ID = /^[0-9a-z.-]{1,64}$/;

/** One inbound message as `[relay-messages]` stored it in the astdb inbox. */
export interface InboxEntry {
  readonly id: string;
  /** The Relay context the dialplan mapped it to. */
  readonly context: string;
  /** When Asterisk received it (seconds since the epoch). */
  readonly receivedAt: number;
  /** `MESSAGE(to)`, `MESSAGE(from)`, `MESSAGE(body)` as Asterisk had them. */
  readonly to: string;
  readonly from: string;
  readonly body: string;
}

/**
 * Reads an inbox entry: `1|<context>|<epoch>|<base64 to>|<base64 from>|<base64 body>`. `undefined`
 * when it is not one (another version, a bad id, missing fields).
 */
export function parseInboxEntry(id: string, value: string): InboxEntry | undefined {
  if (!INBOX_ID.test(id)) return undefined;
  const fields = value.split('|');
  if (fields.length !== 6 || fields[0] !== '1') return undefined;
  const [, context = '', epoch = '', to = '', from = '', body = ''] = fields;
  const receivedAt = Number(epoch);
  const base64 = /^[A-Za-z0-9+/]*={0,2}$/;
  if (context === '' || !/^\d+$/.test(epoch) || ![to, from, body].every((text) => base64.test(text))) return undefined;
  const text = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');
  return { id, context, receivedAt, to: text(to), from: text(from), body: text(body) };
}

/** The Relay message of an inbox entry: numbers read from the addresses, state `received`. */
export function inboundMessage(entry: InboxEntry): Message {
  return Object.freeze({
    id: entry.id,
    context: entry.context,
    fromNumber: addressNumber(entry.from),
    toNumber: addressNumber(entry.to),
    direction: 'inbound',
    state: 'received',
    body: entry.body,
    media: Object.freeze([]),
    tags: Object.freeze([]),
    segments: segmentCount(entry.body),
  });
}
