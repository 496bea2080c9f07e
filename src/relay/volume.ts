/**
 * Relay's `volume` (dB, -40..+40, 0 unchanged) on Asterisk: the channel's transmit gain, through
 * `func_volume`'s `VOLUME(TX)`. Asterisk 22 reads the value with `atof` and multiplies every frame
 * the channel sends by it (0 switches the adjustment off), so a dB value becomes the amplitude factor
 * `10^(dB/20)`: +6 dB doubles, -6 dB halves. It applies to everything the channel sends while set,
 * so whoever sets it for a play or prompt resets it afterwards.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import type { ChannelAmi } from './channel-ami.js';
import { RelayArgumentError } from './errors.js';

/** The dialplan function that sets the channel's transmit gain (needs `func_volume.so`). */
export const VOLUME_TX = 'VOLUME(TX)';

/** Relay's volume range, in dB. */
export const MAX_VOLUME_DB = 40;

/**
 * Checks a Relay volume (a number of dB from -40 to +40) and returns it.
 *
 * @throws RelayArgumentError naming `what` when it is not one
 */
export function checkVolume(value: unknown, what = 'volume'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_VOLUME_DB) {
    throw new RelayArgumentError(`${what} must be a number of dB from -${MAX_VOLUME_DB} to +${MAX_VOLUME_DB}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** The amplitude factor of `db` decibels: `10^(db/20)` (1 for 0 dB). */
export function volumeFactor(db: number): number {
  return 10 ** (db / 20);
}

/** What `VOLUME(TX)` is set to for `db`: the factor with 4 decimals, or `0` (no adjustment) for 0 dB. */
export function volumeValue(db: number): string {
  return db === 0 ? '0' : volumeFactor(db).toFixed(4);
}

/** Sets the channel's transmit gain through its AGI session (between commands). */
export async function setVolumeOverAgi(agi: Agi, db: number): Promise<void> {
  await agi.setVariable(VOLUME_TX, volumeValue(db));
}

/** Sets the channel's transmit gain over AMI (`Setvar`), which works while an AGI command runs. */
export async function setVolumeOverAmi(ami: ChannelAmi, db: number): Promise<void> {
  await ami.setVariable(VOLUME_TX, volumeValue(db));
}
