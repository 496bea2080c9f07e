/**
 * The 39 ringtones of the Relay seed (country codes), as Asterisk tone lists for `PlayTones`. The
 * values are the `ring` tones of Asterisk 22's `indications.conf.sample`, embedded so that no
 * `indications.conf` is needed: `freq[+freq2][*mod]/ms` items, comma-separated, repeated by
 * `PlayTones` until stopped.
 *
 * @module
 */

/** Tone list per ringtone. */
export const RINGTONES = {
  at: '420/1000,0/5000',
  au: '413+438/400,0/200,413+438/400,0/2000',
  be: '425/1000,0/3000',
  bg: '425/1000,0/4000',
  br: '425/1000,0/4000',
  ch: '425/1000,0/4000',
  cl: '400/1000,0/3000',
  cn: '450/1000,0/4000',
  cz: '425/1000,0/4000',
  de: '425/1000,0/4000',
  dk: '425/1000,0/4000',
  ee: '425/1000,0/4000',
  es: '425/1500,0/3000',
  fi: '425/1000,0/4000',
  fr: '440/1500,0/3500',
  gr: '425/1000,0/4000',
  hu: '425/1250,0/3750',
  il: '414/1000,0/3000',
  in: '400*25/400,0/200,400*25/400,0/2000',
  it: '425/1000,0/4000',
  jp: '400+15/1000,0/2000',
  lt: '425/1000,0/4000',
  mx: '425/1000,0/4000',
  my: '425/400,0/200,425/400,0/2000',
  nl: '425/1000,0/4000',
  no: '425/1000,0/4000',
  nz: '400+450/400,0/200,400+450/400,0/2000',
  ph: '425+480/1000,0/4000',
  pl: '425/1000,0/4000',
  pt: '425/1000,0/5000',
  ru: '425/1000,0/4000',
  se: '425/1000,0/5000',
  sg: '425*24/400,0/200,425*24/400,0/2000',
  th: '420/1000,0/5000',
  tw: '440+480/1000,0/2000',
  uk: '400+450/400,0/200,400+450/400,0/2000',
  us: '440+480/2000,0/4000',
  ve: '425/1000,0/4000',
  za: '400*33/400,0/200,400*33/400,0/2000',
} as const satisfies Readonly<Record<string, string>>;

/** A ringtone name of the seed. */
export type RingtoneName = keyof typeof RINGTONES;

/** `true` for a name {@link RINGTONES} has. */
export function isRingtoneName(name: unknown): name is RingtoneName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(RINGTONES, name);
}

/** Length of one cadence of a tone list in ms (the sum of its items' durations). */
export function cadenceMs(tones: string): number {
  let total = 0;
  for (const item of tones.split(',')) {
    const ms = /\/(\d+)$/.exec(item.trim());
    if (ms) total += Number(ms[1]);
  }
  return total;
}

/**
 * The tone list that plays `tones` from `offsetMs` into its cadence: the list rotated (the item the
 * offset falls into split in two), so that a ringtone paused part way resumes where it was and keeps
 * its cadence. Lists with an item that has no duration, or plays once (`!`), are returned unchanged.
 */
export function tonesFrom(tones: string, offsetMs: number): string {
  const items = tones.split(',').map((item) => item.trim());
  const parsed = items.map((item) => /^([^!/][^/]*)\/(\d+)$/.exec(item));
  if (parsed.some((m) => m === null)) return tones;
  const cadence = cadenceMs(tones);
  let offset = cadence > 0 ? Math.round(offsetMs) % cadence : 0;
  if (offset <= 0) return tones;
  for (let i = 0; i < items.length; i++) {
    const [, tone, ms] = parsed[i] as RegExpExecArray;
    const duration = Number(ms);
    if (offset < duration) {
      const head = `${tone}/${duration - offset}`;
      const tail = offset > 0 ? [`${tone}/${offset}`] : [];
      return [head, ...items.slice(i + 1), ...items.slice(0, i), ...tail].join(',');
    }
    offset -= duration;
  }
  return tones;
}
