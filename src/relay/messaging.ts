/**
 * {@link Messaging}: the seed's `Relay.Messaging` (`client.messaging`) on Asterisk: `send()` hands a
 * text message to AMI `MessageSend`, which PJSIP sends as a SIP `MESSAGE` through a configured
 * endpoint (an SMS provider's trunk, a phone, ...). Inbound messages: message-inbox.ts.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AmiActionError, AmiClosedError, AmiConnectionLostError, AmiError, AmiTimeoutError } from '../ami/errors.js';
import { RelayCapabilityError } from './errors.js';
import { checkDomain, checkEndpoint, checkSendParams, messageSendFields, outboundMessage, withState, type Message, type MessageSendParams } from './message.js';
import type { SendResult } from './results.js';
import type { RelayRuntime } from './runtime.js';

/** Messaging settings of a Relay connection (`RelayConnection.messaging`). */
export interface MessagingOptions {
  /**
   * The PJSIP endpoint (pjsip.conf) outbound messages leave through, e.g. the SMS provider's trunk;
   * or a function choosing one per message. Each message goes to `pjsip:PJSIP/<toNumber>@<endpoint>`:
   * a request URI `sip:<toNumber>@<the endpoint's contact host>`. Required for `send`.
   */
  endpoint?: string | ((message: Message) => string);
  /**
   * Domain of the SIP From (`sip:<fromNumber>@<fromDomain>`). Default: the From user is the number
   * and the domain is the endpoint's own (its `from_domain`, else the transport's address).
   */
  fromDomain?: string;
  /** How long Asterisk may take to answer `MessageSend` (default: the AMI client's action timeout). */
  timeoutMs?: number;
  /** The inbound inbox (message-inbox.ts). */
  inbox?: {
    /**
     * An inbound message no consumer has claimed after this long is dropped (with a warning) by the
     * next sweep of any consumer (default 86400 s: a consumer down for less than a day gets its
     * messages when it comes back).
     */
    maxAgeSeconds?: number;
    /** How often a consumer sweeps the inbox besides at start and after an AMI reconnect (default 60 s). */
    sweepIntervalSeconds?: number;
  };
}

/** Events of {@link Messaging}. */
export interface MessagingEvents {
  /** A message sent through this `Messaging` changed state (a new frozen snapshot). */
  state: [message: Message];
}

/**
 * Sends messages (`send`) and reports their state changes (`state` events, which a {@link Consumer}
 * turns into `onMessageStateChange` for its contexts).
 */
export class Messaging extends EventEmitter<MessagingEvents> {
  constructor(
    private readonly runtime: () => RelayRuntime,
    private readonly options: MessagingOptions = {},
  ) {
    super();
    if (options.fromDomain !== undefined) checkDomain(options.fromDomain);
    if (typeof options.endpoint === 'string') checkEndpoint(options.endpoint);
  }

  /**
   * Sends a text message (the seed's `messaging.send`). Reports `queued`, `initiated`, then `sent`
   * once Asterisk has handed it to PJSIP, or `failed` with a reason (Asterisk refused it, e.g. an
   * unknown endpoint; no answer from AMI). Resolves with `{ successful, messageId, message }`;
   * `successful` is not a delivery report: Asterisk does not say whether the far end accepted the
   * SIP MESSAGE, so `delivered` and `undelivered` never occur.
   *
   * @throws RelayArgumentError for bad parameters (media, a body over {@link MAX_BODY_BYTES} bytes, ...)
   * @throws RelayCapabilityError without AMI or a messaging endpoint
   */
  async send(params: MessageSendParams): Promise<SendResult> {
    checkSendParams(params);
    const runtime = this.runtime();
    const ami = runtime.requireAmi('messaging.send');
    let message = outboundMessage(randomUUID(), params);
    const endpoint = this.endpointFor(message);
    const log = runtime.log.child({ messageId: message.id });
    message = this.report(message, log);
    message = this.report(withState(message, 'initiated'), log);
    try {
      await ami.action('MessageSend', messageSendFields(message, endpoint, this.options.fromDomain), { timeoutMs: this.options.timeoutMs });
      message = this.report(withState(message, 'sent'), log);
    } catch (error) {
      if (!(error instanceof AmiError)) throw error;
      log.warn({ err: error, endpoint, toNumber: message.toNumber }, 'message not sent');
      message = this.report(withState(message, 'failed', failureReason(error)), log);
    }
    return { successful: message.state === 'sent', messageId: message.id, message };
  }

  private endpointFor(message: Message): string {
    const endpoint = this.options.endpoint;
    if (endpoint === undefined) throw new RelayCapabilityError('messaging-endpoint', 'messaging.send');
    return checkEndpoint(typeof endpoint === 'function' ? endpoint(message) : endpoint);
  }

  /** Emits a state change; a listener that throws is logged and does not stop the send. */
  private report(message: Message, log: RelayRuntime['log']): Message {
    log.debug({ state: message.state, reason: message.reason }, `message ${message.state}`);
    try {
      this.emit('state', message);
    } catch (error) {
      log.error({ err: error }, 'a messaging state listener threw');
    }
    return message;
  }
}

/** The `reason` of a failed message, from what AMI said. */
function failureReason(error: AmiError): string {
  if (error instanceof AmiActionError) {
    return `Asterisk refused the message: ${error.response.get('Message') ?? 'no reason given'} (e.g. an unknown endpoint; Asterisk's log has the cause)`;
  }
  const maybeSent = (error instanceof AmiTimeoutError || error instanceof AmiClosedError) ? error.sent : error instanceof AmiConnectionLostError;
  return maybeSent ? `${error.message} (the message may have been sent)` : error.message;
}
