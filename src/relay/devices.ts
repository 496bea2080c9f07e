/**
 * The devices of `connect()` and how they become `Dial()` calls. Pure.
 *
 * A device list is the seed's `device_list`: each top-level entry is tried one after the other
 * (serial); an entry that is itself an array is a group whose devices ring at the same time
 * (parallel). `[a, b]` tries `a` then `b`; `[[a, b], c]` rings `a` and `b` together, then `c`.
 * A device is `{ type: 'phone', params: { toNumber, fromNumber?, timeout? } }` or the shorthand
 * `{ toNumber, fromNumber?, timeout? }` (`type` optional; only `phone` exists).
 *
 * Each group becomes one `Dial(<dev1>&<dev2>,<timeout>,g[b(relay-predial^s^1(<from>))])`: `g` so
 * that the caller's AGI gets control back when the remote party hangs up (without it `Dial` returns
 * `-1` and the AGI session ends: app_dial.c, `OPT_GO_ON`), `b()` to set the caller id the called party
 * sees (its channel's connected line, `[relay-predial]`) when a `fromNumber` was given.
 *
 * @module
 */

import { RelayArgumentError } from './errors.js';

/** A phone device with its parameters, as `connect()` uses it. */
export interface PhoneDevice {
  readonly type: 'phone';
  /** The party to connect with: the device resolver turns it into a dial string. */
  readonly toNumber: string;
  /** The caller id the called party sees; `undefined`: the calling call's (Dial's default). */
  readonly fromNumber: string | undefined;
  /** Seconds the device rings before it counts as not answering (default {@link DEFAULT_DEVICE_TIMEOUT}). */
  readonly timeout: number;
}

/** The parameters of a phone device. */
export interface PhoneDeviceParams {
  readonly toNumber: string;
  readonly fromNumber?: string;
  readonly timeout?: number;
}

/** A device as `connect()` takes it: the SDK's `{ type, params }` or the shorthand. */
export type DeviceInput = { readonly type?: 'phone'; readonly params: PhoneDeviceParams } | ({ readonly type?: 'phone' } & PhoneDeviceParams);

/** `connect()`'s device list: devices in series; an array entry is a group dialled in parallel. */
export type DeviceList = ReadonlyArray<DeviceInput | readonly DeviceInput[]>;

/** Maps a device to the dial string `Dial()` gets (`PJSIP/${toNumber}@trunk`...). */
export type DeviceResolver = (device: PhoneDevice) => string;

/** Seconds a device rings when it names no `timeout`. */
export const DEFAULT_DEVICE_TIMEOUT = 30;

/** The context the default resolver dials into: write it in your dialplan (e.g. to a trunk). */
export const DEFAULT_DEVICE_CONTEXT = 'relay-outbound';

/** The default {@link DeviceResolver}: `Local/<toNumber>@relay-outbound/n`. */
export const defaultDeviceResolver: DeviceResolver = (device) => `Local/${device.toNumber}@${DEFAULT_DEVICE_CONTEXT}/n`;

/** What `Dial()` reads as syntax in its first argument and `b()`'s arguments. */
const DIAL_SYNTAX = /[&,|()^"'\\\s]/;
/** What a number may hold: dial strings are built from it (the default resolver puts it before `@`). */
const NUMBER = /^[0-9A-Za-z+*#_.:-]+$/;

/** The longest a device may ring (seconds): an hour. */
export const MAX_DEVICE_TIMEOUT = 3600;

/**
 * A phone device's `toNumber`, `fromNumber` (optional) and `timeout` (default
 * {@link DEFAULT_DEVICE_TIMEOUT}), checked by the one rule `connect()` and `dial()` share (pure).
 * `where` names the device in messages (`connect: devices[1].`, `dial: `).
 *
 * @throws RelayArgumentError for a number a dial string cannot carry, or a timeout outside (0, 3600] s
 */
export function checkPhoneDevice(where: string, toNumber: unknown, fromNumber: unknown, timeout: unknown): PhoneDevice {
  if (typeof toNumber !== 'string' || !NUMBER.test(toNumber)) {
    throw new RelayArgumentError(`${where}toNumber must be a number or name of 0-9 A-Z a-z + * # _ . : -, not ${JSON.stringify(toNumber)}`);
  }
  if (fromNumber !== undefined && (typeof fromNumber !== 'string' || !NUMBER.test(fromNumber))) {
    throw new RelayArgumentError(`${where}fromNumber must be a number or name of 0-9 A-Z a-z + * # _ . : -, not ${JSON.stringify(fromNumber)}`);
  }
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_DEVICE_TIMEOUT)) {
    throw new RelayArgumentError(`${where}timeout must be seconds above 0 and at most ${MAX_DEVICE_TIMEOUT}, not ${JSON.stringify(timeout)}`);
  }
  return { type: 'phone', toNumber, fromNumber: fromNumber as string | undefined, timeout: (timeout as number | undefined) ?? DEFAULT_DEVICE_TIMEOUT };
}

/** One serial step: the devices ringing together, and the `Dial()` arguments that ring them. */
export interface DialGroup {
  readonly devices: readonly PhoneDevice[];
  /** Their dial strings, in order. */
  readonly dialStrings: readonly string[];
  /** `Dial()`'s arguments: the `&`-joined dial strings, the timeout (s), the options. */
  readonly dialArguments: readonly [string, string, string];
}

/**
 * Reads a device list into serial groups of devices (a device alone is a group of one).
 *
 * @throws RelayArgumentError for an empty list or group, a nested group, or a bad device
 */
export function parseDevices(list: DeviceList): PhoneDevice[][] {
  if (!Array.isArray(list) || list.length === 0) throw new RelayArgumentError('connect: the device list is empty');
  return list.map((entry, index) => {
    if (!Array.isArray(entry)) return [parseDevice(entry as DeviceInput, `devices[${index}]`)];
    if (entry.length === 0) throw new RelayArgumentError(`connect: devices[${index}] is an empty group`);
    return entry.map((device: unknown, inner) => {
      if (Array.isArray(device)) throw new RelayArgumentError(`connect: devices[${index}][${inner}]: groups do not nest (a group rings its devices at once; list groups one after the other)`);
      return parseDevice(device as DeviceInput, `devices[${index}][${inner}]`);
    });
  });
}

/** One device, checked. */
function parseDevice(input: DeviceInput, where: string): PhoneDevice {
  if (typeof input !== 'object' || input === null) throw new RelayArgumentError(`connect: ${where} is not a device`);
  const type = (input as { type?: unknown }).type ?? 'phone';
  if (type !== 'phone') throw new RelayArgumentError(`connect: ${where}: only 'phone' devices exist, not ${JSON.stringify(type)}`);
  const params = ('params' in input ? input.params : input) as Partial<Record<keyof PhoneDeviceParams, unknown>> | undefined;
  if (typeof params !== 'object' || params === null) throw new RelayArgumentError(`connect: ${where}.params is missing`);
  return checkPhoneDevice(`connect: ${where}.`, params.toNumber, params.fromNumber, params.timeout);
}

/**
 * The `Dial()` of each serial group. A group rings for its longest device timeout (`Dial()` has one
 * timeout; with AMI the connect hangs a device with a shorter one up at its own), and takes one caller id: the `fromNumber` its devices name (devices naming none get it
 * too).
 *
 * @throws RelayArgumentError when devices of one group name different `fromNumber`s, or the resolver
 *   returns a dial string `Dial()` would misread
 */
export function dialGroups(groups: readonly (readonly PhoneDevice[])[], resolve: DeviceResolver): DialGroup[] {
  return groups.map((devices, index) => {
    const dialStrings = devices.map((device) => {
      const dialString = resolve(device);
      if (typeof dialString !== 'string' || !/^[^/\s]+\/\S+$/.test(dialString) || DIAL_SYNTAX.test(dialString)) {
        throw new RelayArgumentError(`connect: the device resolver gave ${JSON.stringify(dialString)} for ${device.toNumber}: a dial string is Tech/resource with none of & , | ( ) ^ quotes or spaces`);
      }
      return dialString;
    });
    const froms = [...new Set(devices.flatMap((device) => (device.fromNumber === undefined ? [] : [device.fromNumber])))];
    if (froms.length > 1) throw new RelayArgumentError(`connect: group ${index} names several fromNumbers (${froms.join(', ')}): the devices of a group share one`);
    const timeout = Math.ceil(Math.max(...devices.map((device) => device.timeout)));
    const options = froms[0] === undefined ? 'g' : `gb(relay-predial^s^1(${froms[0]}))`;
    return { devices, dialStrings, dialArguments: [dialStrings.join('&'), String(timeout), options] };
  });
}

/**
 * The device of a group a `DialBegin` is about: the one whose dial string is the event's
 * `DestChannel` technology and `DialString` (`Local` + `200@relay-outbound/n`), or `undefined`.
 * `taken` holds the indexes already matched (the same dial string twice in a group).
 */
export function deviceOfDialBegin(group: DialGroup, destChannel: string, dialString: string, taken: ReadonlySet<number>): number | undefined {
  const tech = destChannel.slice(0, destChannel.indexOf('/'));
  const index = group.dialStrings.findIndex((candidate, i) => !taken.has(i) && candidate.toLowerCase().startsWith(`${tech.toLowerCase()}/`) && candidate.slice(tech.length + 1) === dialString);
  return index === -1 ? undefined : index;
}

/** How a group's `Dial()` ended, from `DIALSTATUS`, for the result and logs. */
export type DialOutcome = 'answered' | 'busy' | 'noAnswer' | 'failed' | 'canceled';

/** `DIALSTATUS` as a {@link DialOutcome} (app_dial.c documents the values). */
export function dialOutcome(dialStatus: string): DialOutcome {
  switch (dialStatus) {
    case 'ANSWER':
      return 'answered';
    case 'BUSY':
      return 'busy';
    case 'NOANSWER':
      return 'noAnswer';
    case 'CANCEL':
      return 'canceled';
    default:
      // CHANUNAVAIL, CONGESTION, DONTCALL, TORTURE, INVALIDARGS, '' (Dial did not run).
      return 'failed';
  }
}
