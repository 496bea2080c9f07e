/**
 * Outbound calls (`calling.dial`, `calling.newCall` + `call.dial()`): the parameters, the device
 * resolver (`toNumber` → Asterisk dial string), the reading of the Originate's outcome, and placing
 * the call.
 *
 * A call is placed with AMI `Originate` of the resolved dial string into `s@relay-dial` (never
 * `Application=AGI`), with the Originate `ChannelId` = the call's id (a UUID agikit chooses) and
 * `RELAY_OWNER` = this process's FastAGI URL: the answered channel runs
 * `AGI(${RELAY_OWNER}/relay/dialed)`, which reaches this very process, and the runtime attaches that
 * session to the `Call` by `agi_uniqueid` (either order of `OriginateResponse` and the session's
 * arrival). The call is made and followed over AMI before the Originate, so that no event is missed.
 *
 * @module
 */

import type { Call } from './call.js';
import { checkPhoneDevice, DEFAULT_DEVICE_TIMEOUT, type PhoneDevice } from './devices.js';
import { RELAY_CONTEXTS, RELAY_VARIABLES } from './dialplan.js';
import { RelayArgumentError, RelayError } from './errors.js';
import { hangupReasonFromCause, type HangupReason, type RelayEvent, type RelayResult } from './results.js';

/**
 * What `calling.dial()` / `calling.newCall()` take: the seed's `{ type, toNumber, fromNumber,
 * timeout }` (the Python SDK's `to_number`/`from_number` as camelCase; `to`/`from` are accepted as
 * the JS SDK names them).
 */
export interface DialParams {
  /** `phone` (the default and, as in the seed, the only type). */
  readonly type?: 'phone';
  /** The party to call: what the device resolver turns into a dial string. */
  readonly toNumber?: string;
  /** The caller id number the far end sees. */
  readonly fromNumber?: string;
  /** Alias of {@link toNumber}. */
  readonly to?: string;
  /** Alias of {@link fromNumber}. */
  readonly from?: string;
  /** Seconds the call may ring before it counts as not answered (default 30). */
  readonly timeout?: number;
  /** The Relay context the call belongs to (default `''`: none). */
  readonly context?: string;
}

/** A device to call, as the device resolver gets it (`fromNumber` `''`: Asterisk's default caller id). */
export interface DialDevice extends PhoneDevice {
  readonly fromNumber: string;
}

/** The seed's `DialResult`: `successful` once the far end picked up, and the `call` (also when it was not). */
export interface DialResult extends RelayResult {
  readonly call: Call;
}

/** Default ring time of a dial (seconds): the same as a `connect()` device's. */
export const DEFAULT_DIAL_TIMEOUT = DEFAULT_DEVICE_TIMEOUT;

/**
 * The device of `params`, checked (pure).
 *
 * @throws RelayArgumentError for a missing or malformed number, an unknown type, or a bad timeout
 */
export function dialDevice(params: DialParams): DialDevice {
  if (typeof params !== 'object' || params === null) throw new RelayArgumentError('dial: the parameters must be an object ({ toNumber, fromNumber, timeout })');
  const type = params.type ?? 'phone';
  if (type !== 'phone') throw new RelayArgumentError(`dial: type ${JSON.stringify(type)} is not supported (only 'phone')`);
  // No caller number is '' here (the Originate sends none); the device rule says undefined.
  const fromNumber = params.fromNumber ?? params.from;
  const device = checkPhoneDevice('dial: ', params.toNumber ?? params.to, fromNumber === '' ? undefined : fromNumber, params.timeout);
  return { ...device, fromNumber: device.fromNumber ?? '' };
}

/** The Originate `Reason`s (Asterisk's `AST_CONTROL_*`) dial tells apart. */
const REASON = { hungUp: 1, noAnswer: 3, busy: 5, congestion: 8 } as const;

/**
 * Why an Originate that was not answered failed, from its `Reason` (Asterisk's `AST_CONTROL_*`,
 * relay-probes §6): 5 busy → `busy`; 3 rang (or never rang) until the timeout → `noAnswer`;
 * anything else (8 congestion, 1 hung up, 0 failed, also a far end that hung up before answering)
 * → `error`, unless the channel's `Hangup` `cause` names a refusal (17 `busy`, 18/19 `noAnswer`,
 * 21 `decline`: a far end that hung up with that cause before answering). Pure.
 */
export function unansweredReason(reason: number, cause?: number | null): HangupReason {
  if (reason === REASON.busy) return 'busy';
  if (reason === REASON.noAnswer) return 'noAnswer';
  // Reason 0 says little; the channel's Hangup cause, when it names a refusal, says more.
  if (cause === 17 || cause === 18 || cause === 19 || cause === 21) return hangupReasonFromCause(cause, false);
  return 'error';
}

/** How long the answered call's AGI session may take to reach this process (ms). */
const SESSION_WAIT_MS = 10_000;

/**
 * How long an unanswered Originate waits for its channel's `Hangup` (ms), which AMI may send after
 * the Originate's answer (channel events go through Stasis). A channel that surely existed (seen
 * created, or reason 1 hung up, 8 congestion) will report one; with reason 0 and nothing seen the
 * channel may never have been made (a device Asterisk could not request), so it is waited for
 * less.
 */
const HANGUP_LAG_MS = { existed: 2000, unknown: 1000 } as const;

/**
 * Places `call` (an outbound call from `calling.newCall()`) and resolves once it was answered and
 * its AGI session has attached (successful), or once it was not answered (busy, no answer within
 * its timeout, failed: the call has ended, with `hangupReason`, `busy` and `failed` saying why).
 *
 * @throws RelayCapabilityError without AMI or a FastAGI address
 * @throws RelayError when the call was already dialed
 */
export async function placeCall(call: Call, device: DialDevice): Promise<DialResult> {
  const runtime = call.runtime;
  const ami = runtime.requireAmi('dial');
  const owner = await runtime.obtainOwner('dial');
  const channel = runtime.resolveDevice(device);
  if (typeof channel !== 'string' || channel === '') throw new RelayArgumentError(`dial: the device resolver gave no dial string for ${JSON.stringify(device.toNumber)}`);
  call.startDialing();
  call.log.debug({ channel, to: device.toNumber }, 'dial: Originate');
  let outcome;
  try {
    outcome = await ami.originate({
      channel,
      context: RELAY_CONTEXTS.dial,
      exten: 's',
      priority: 1,
      channelId: call.id,
      timeoutMs: device.timeout * 1000,
      ...(device.fromNumber !== '' ? { callerId: `<${device.fromNumber}>` } : {}),
      variables: { [RELAY_VARIABLES.owner]: owner },
    });
  } catch (error) {
    call.log.warn({ err: error }, 'dial: the Originate failed');
    call.endUnanswered(() => 'error');
    return { successful: false, event: null, call };
  }
  const event: RelayEvent = { name: 'originate.response', payload: { response: outcome.event.get('Response'), reason: outcome.reason } };
  if (!outcome.success) {
    call.log.debug({ reason: outcome.reason }, 'dial: not answered');
    // Busy and no answer say why by themselves; otherwise the Hangup's cause may.
    if (outcome.reason !== REASON.busy && outcome.reason !== REASON.noAnswer) {
      const existed = outcome.reason === REASON.hungUp || outcome.reason === REASON.congestion || call.state !== 'none';
      await call.awaitHeldEnd(existed ? HANGUP_LAG_MS.existed : HANGUP_LAG_MS.unknown);
    }
    call.endUnanswered((cause) => unansweredReason(outcome.reason, cause));
    return { successful: false, event, call };
  }
  call.dialAnswered(SESSION_WAIT_MS);
  if (await call.reattached()) return { successful: true, event, call };
  if (call.ended) return { successful: false, event, call };
  call.log.error(`dial: answered, but its AGI session did not reach ${owner} (RELAY_OWNER) within ${SESSION_WAIT_MS} ms: hung up`);
  await call.hangup({ reason: 'error' }).catch(() => undefined);
  return { successful: false, event, call };
}

/** @throws RelayError for a call that is not a new outbound call. */
export function assertDialable(call: Call, dialable: boolean): void {
  if (!dialable) throw new RelayError(`dial: only a call made with calling.newCall() can be dialed, once (call ${call.id} is ${call.state === 'none' ? 'being dialed' : call.state})`);
}
