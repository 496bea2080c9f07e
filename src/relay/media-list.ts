/**
 * Relay media lists (`play`, `prompt`): the seed's media items, checked, and turned into what the
 * call's AGI session plays: a file for `STREAM FILE` (a sound name, a local file, a fetched URL,
 * synthesized speech, generated silence) or a tone list for `PlayTones`.
 *
 * @module
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWav } from '../media/audio.js';
import type { MediaOptions } from '../media/options.js';
import { PathMapping } from '../media/paths.js';
import { preparePlayable } from '../media/playable.js';
import { RelayArgumentError, RelayCapabilityError } from './errors.js';
import { cadenceMs, isRingtoneName, RINGTONES, type RingtoneName } from './ringtones.js';

/** One item of a media list, as the seed has them. */
export type Media =
  | { readonly type: 'audio'; readonly url: string }
  | { readonly type: 'tts'; readonly text: string; readonly language?: string; readonly gender?: 'male' | 'female' }
  | { readonly type: 'silence'; readonly duration: number }
  | { readonly type: 'ringtone'; readonly name: RingtoneName; readonly duration?: number };

/** A media item ready to play. */
export type PreparedMedia =
  | {
      readonly kind: 'file';
      /** What Asterisk plays: a sound name or path without extension. */
      readonly file: string;
      /** Its duration, when agikit knows it. */
      readonly durationMs?: number;
      readonly item: Media;
    }
  | {
      readonly kind: 'tones';
      /** A `PlayTones` tone list. */
      readonly tones: string;
      /** How long to play it. */
      readonly durationMs: number;
      readonly item: Media;
    };

/** What preparing media may use. */
export interface MediaContext {
  readonly media: MediaOptions;
  /** The call's language (`agi_language`), for text to speech without a `language`. */
  readonly language: string;
  /** Aborts a fetch. */
  readonly signal?: AbortSignal;
}

/** Subdirectory of the media directory holding fetched URLs, named by content hash. */
export const FETCHED_SUBDIRECTORY = '.agikit-fetched';
/** Subdirectory of the media directory holding generated silence, named by length. */
export const SILENCE_SUBDIRECTORY = '.agikit-silence';
/** Largest audio file agikit fetches for `playAudio` (bytes). */
export const MAX_FETCH_BYTES = 64 * 1024 * 1024;
/** Longest silence or ringtone item (seconds): a play is not a way to hold a call forever. */
export const MAX_ITEM_SECONDS = 3600;

/**
 * Checks a media list's shape and values, so that nothing is sent for a list that cannot play.
 *
 * @throws RelayArgumentError naming the bad item and what is wrong with it
 */
export function checkMediaList(list: readonly unknown[]): Media[] {
  if (!Array.isArray(list) || list.length === 0) throw new RelayArgumentError('a media list needs at least one item');
  return list.map((item, index) => checkMedia(item, index));
}

function checkMedia(item: unknown, index: number): Media {
  const where = `media item ${index}`;
  if (typeof item !== 'object' || item === null) throw new RelayArgumentError(`${where} is not an object`);
  const m = item as Record<string, unknown>;
  switch (m.type) {
    case 'audio':
      if (typeof m.url !== 'string' || m.url.trim() === '') throw new RelayArgumentError(`${where}: audio needs a url (a URL, a file or a sound name)`);
      return { type: 'audio', url: m.url };
    case 'tts':
      if (typeof m.text !== 'string' || m.text.trim() === '') throw new RelayArgumentError(`${where}: tts needs a text`);
      if (m.gender !== undefined && m.gender !== 'male' && m.gender !== 'female') throw new RelayArgumentError(`${where}: gender is male or female, not ${JSON.stringify(m.gender)}`);
      if (m.language !== undefined && (typeof m.language !== 'string' || !/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(m.language))) {
        throw new RelayArgumentError(`${where}: bad language ${JSON.stringify(m.language)} (e.g. en-US)`);
      }
      return { type: 'tts', text: m.text, ...(m.language ? { language: m.language as string } : {}), ...(m.gender ? { gender: m.gender } : {}) };
    case 'silence':
      return { type: 'silence', duration: seconds(m.duration, `${where}: silence duration`, true) };
    case 'ringtone':
      if (!isRingtoneName(m.name)) throw new RelayArgumentError(`${where}: unknown ringtone ${JSON.stringify(m.name)} (one of ${Object.keys(RINGTONES).join(', ')})`);
      return { type: 'ringtone', name: m.name, ...(m.duration === undefined ? {} : { duration: seconds(m.duration, `${where}: ringtone duration`, true) }) };
    default:
      throw new RelayArgumentError(`${where}: type must be audio, tts, silence or ringtone, not ${JSON.stringify(m.type)}`);
  }
}

function seconds(value: unknown, what: string, positive: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0) || value > MAX_ITEM_SECONDS) {
    throw new RelayArgumentError(`${what} must be a number of seconds${positive ? ' above 0' : ''} and at most ${MAX_ITEM_SECONDS}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks up front that the runtime has what the items need: a TTS provider for `tts`, a media
 * directory for `silence` and for `http(s)` URLs. `method` names the Relay method in the error.
 *
 * @throws RelayCapabilityError naming what is missing
 */
export function requireMediaCapabilities(items: readonly Media[], media: MediaOptions, method: string): void {
  for (const item of items) {
    if (item.type === 'tts' && !media.tts) throw new RelayCapabilityError('tts', method);
    if (!media.directory && (item.type === 'silence' || (item.type === 'audio' && /^https?:\/\//i.test(item.url)))) {
      throw new RelayCapabilityError('media-directory', method, item.type === 'silence' ? 'to write the silence Asterisk plays' : `to fetch ${item.url} where Asterisk can read it`);
    }
  }
}

/**
 * Prepares one item: fetches a URL, synthesizes speech, generates silence, or picks a ringtone's
 * tone list. Runs before the item plays, so a list's later items are ready when their turn comes.
 *
 * @throws RelayCapabilityError when the item needs a media directory or a TTS provider that is not configured
 * @throws MediaSetupError, AudioFormatError when a file cannot be played (see `preparePlayable`)
 */
export async function prepareMedia(item: Media, context: MediaContext): Promise<PreparedMedia> {
  switch (item.type) {
    case 'audio':
      return prepareAudio(item, context);
    case 'tts': {
      const tts = context.media.tts;
      if (!tts) throw new RelayCapabilityError('tts', 'playTTS');
      const speech = await tts.synthesize(item.text, {
        language: ttsLanguage(item.language ?? context.language),
        ...(item.gender ? { voice: item.gender === 'female' ? 'f3' : 'm3' } : {}),
      });
      return { kind: 'file', file: speech.file, ...(speech.durationMs === undefined ? {} : { durationMs: speech.durationMs }), item };
    }
    case 'silence':
      return { kind: 'file', ...(await silenceFile(item.duration, context)), item };
    case 'ringtone': {
      const tones = RINGTONES[item.name];
      return { kind: 'tones', tones, durationMs: item.duration === undefined ? cadenceMs(tones) : Math.round(item.duration * 1000), item };
    }
  }
}

/** `en-US` as espeak-ng and most engines name it (`en-us`); the call's `agi_language` `en` stays. */
function ttsLanguage(language: string): string {
  return language.replace('_', '-').toLowerCase();
}

async function prepareAudio(item: Extract<Media, { type: 'audio' }>, context: MediaContext): Promise<PreparedMedia> {
  const mapping = context.media.directory ? new PathMapping(context.media.directory) : undefined;
  let file = item.url;
  if (/^https?:\/\//i.test(file)) {
    if (!mapping) throw new RelayCapabilityError('media-directory', 'playAudio', `to fetch ${file} where Asterisk can read it`);
    file = await fetchToMediaDirectory(file, mapping, context.signal);
  } else if (/^file:\/\//i.test(file)) {
    file = fileURLToPath(file);
  }
  const playable = await preparePlayable(file, mapping);
  return { kind: 'file', file: playable.file, ...(playable.durationMs === undefined ? {} : { durationMs: playable.durationMs }), item };
}

/** Extensions from the media types a URL may come with. */
const EXTENSION_OF_TYPE: Readonly<Record<string, string>> = {
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/vnd.wave': 'wav',
  'audio/basic': 'ulaw',
  'audio/pcmu': 'ulaw',
  'audio/pcma': 'alaw',
  'audio/gsm': 'gsm',
  'audio/x-gsm': 'gsm',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
};

/**
 * Downloads `url` into `<media directory>/.agikit-fetched/<sha256 of the content>.<ext>` (the same
 * content is stored once) and returns its local path. The extension comes from the URL's path, else
 * from the response's media type. Bounded: {@link MAX_FETCH_BYTES}, and the caller's signal.
 */
export async function fetchToMediaDirectory(url: string, mapping: PathMapping, signal?: AbortSignal, method = 'playAudio', extensionOfType: Readonly<Record<string, string>> = EXTENSION_OF_TYPE): Promise<string> {
  const response = await fetch(url, { signal: signal ?? null, redirect: 'follow' });
  if (!response.ok || !response.body) throw new RelayArgumentError(`${method}: fetching ${url} failed: HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_FETCH_BYTES) throw new RelayArgumentError(`${method}: ${url} is ${declared} bytes, more than ${MAX_FETCH_BYTES}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_FETCH_BYTES) throw new RelayArgumentError(`${method}: ${url} is larger than ${MAX_FETCH_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(chunks);
  const fromPath = /\.([A-Za-z0-9]{1,5})$/.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const ext = fromPath ?? extensionOfType[type];
  if (!ext) throw new RelayArgumentError(`${method}: cannot tell the format of ${url} (no extension, content type ${JSON.stringify(type)})`);
  const directory = path.join(mapping.localRoot, FETCHED_SUBDIRECTORY);
  const target = path.join(directory, `${createHash('sha256').update(bytes).digest('hex')}.${ext}`);
  await mkdir(directory, { recursive: true });
  await writeAtomically(target, bytes);
  return target;
}

/** A silence WAV of exactly `seconds` (8 kHz, 16-bit), made once per length in the media directory. */
async function silenceFile(seconds: number, context: MediaContext): Promise<{ file: string; durationMs: number }> {
  const directory = context.media.directory;
  if (!directory) throw new RelayCapabilityError('media-directory', 'playSilence', 'to write the silence Asterisk plays');
  const mapping = new PathMapping(directory);
  const samples = Math.round(seconds * 8000);
  const durationMs = samples / 8;
  const local = path.join(mapping.localRoot, SILENCE_SUBDIRECTORY, `${samples}.wav`);
  const asterisk = mapping.toAsterisk(local);
  if (asterisk === undefined) throw new RelayCapabilityError('media-directory', 'playSilence', `cannot map ${local} to Asterisk's side`);
  if (!(await readFile(local).catch(() => undefined))) {
    await mkdir(path.dirname(local), { recursive: true });
    await writeAtomically(local, encodeWav({ sampleRate: 8000, samples: new Int16Array(samples) }, 'pcm16'));
  }
  return { file: asterisk.replace(/\.wav$/, ''), durationMs };
}

/** Writes through a temporary name, so concurrent writers and readers never see half a file. */
async function writeAtomically(target: string, bytes: Buffer): Promise<void> {
  const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, bytes);
  await rename(temp, target);
}
