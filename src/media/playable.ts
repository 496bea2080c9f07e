/**
 * From a file name given to {@link FilePlayer} to what `STREAM FILE` needs: the name Asterisk plays
 * (no extension), converting the file first when Asterisk cannot play it as it is.
 *
 * @module
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeWav, resample } from './audio.js';
import { MediaSetupError } from './errors.js';
import { ASTERISK_PLAYABLE_EXTENSIONS, asteriskPlaysAsIs, audioDurationMs, audioExtension, decodeAudioFile, withoutAudioExtension } from './formats.js';
import type { PathMapping } from './paths.js';

/** Subdirectory of the media directory holding converted copies, named by content hash. */
export const CONVERTED_SUBDIRECTORY = '.agikit-converted';

/** A file ready for `STREAM FILE`. */
export interface Playable {
  /** What Asterisk plays: a sound name or path without extension. */
  readonly file: string;
  /** Its duration in ms, when agikit could read the file. */
  readonly durationMs?: number;
  /** The file was converted to 8 kHz 16-bit WAV by agikit. */
  readonly converted: boolean;
}

/**
 * Works out what Asterisk should play for `file`:
 *
 * - a name without extension that is not in the media directory (`hello-world`,
 *   `/var/lib/asterisk/sounds/custom/x`) is Asterisk's business: passed on as is, duration unknown;
 * - a file agikit can read (in the media directory, or a name without extension that matches a file
 *   there) that Asterisk plays as is (8 kHz 16-bit PCM `.wav`, `.alaw`, `.ulaw`, `.sln`, `.gsm`, …)
 *   is passed on without its extension, with its duration;
 * - a file agikit can read that Asterisk cannot play (A-law/µ-law/ADPCM/8-bit/float WAV, any rate other
 *   than 8 kHz, `.vox`) is decoded, resampled to 8 kHz and written as 16-bit WAV to
 *   `<media directory>/.agikit-converted/<sha256 of the file>.wav` (once per content), which is played;
 * - a file with an extension outside the media directory is passed on without its extension when its
 *   format is one Asterisk plays, and refused with {@link MediaSetupError} when it would need converting.
 *
 * A file agikit cannot read (missing) is passed on unchanged so that Asterisk reports it (cause `ERROR`).
 *
 * @throws MediaSetupError when the file needs converting and agikit cannot reach it
 * @throws AudioFormatError when agikit cannot decode a file that needs converting
 */
export async function preparePlayable(file: string, mapping: PathMapping | undefined): Promise<Playable> {
  const ext = audioExtension(file);
  let local: string | undefined;
  let asterisk: string;
  if (ext === '') {
    const found = mapping ? await findInMediaDirectory(file, mapping) : undefined;
    if (!found) return { file, converted: false };
    ({ local, asterisk } = found);
  } else if (mapping) {
    ({ local, asterisk } = mapping.resolve(file));
  } else {
    asterisk = file;
  }
  const foundExt = audioExtension(local ?? asterisk);
  const bytes = local === undefined ? undefined : await readFile(local).catch(() => undefined);
  if (bytes === undefined) {
    if (local === undefined && foundExt !== '' && !ASTERISK_PLAYABLE_EXTENSIONS.has(foundExt) && foundExt !== 'wav') {
      throw new MediaSetupError(
        `${file}: Asterisk cannot play .${foundExt} files and agikit can only convert files in the media directory (MediaOptions.directory)`,
      );
    }
    return { file: withoutAudioExtension(asterisk), converted: false };
  }
  if (asteriskPlaysAsIs(foundExt, bytes)) {
    return { file: withoutAudioExtension(asterisk), converted: false, ...duration(audioDurationMs(bytes, foundExt)) };
  }
  if (!mapping) throw new MediaSetupError(`${file} needs converting, which needs a media directory (MediaOptions.directory)`);
  const converted = await convertForAsterisk(bytes, foundExt, mapping);
  return { file: converted.file, converted: true, durationMs: converted.durationMs };
}

/** Decodes, resamples to 8 kHz and stores a 16-bit WAV copy in the media directory (once per content). */
async function convertForAsterisk(bytes: Buffer, ext: string, mapping: PathMapping): Promise<{ file: string; durationMs: number }> {
  const hash = createHash('sha256').update(bytes).digest('hex');
  const directory = path.join(mapping.localRoot, CONVERTED_SUBDIRECTORY);
  const target = path.join(directory, `${hash}.wav`);
  const asterisk = mapping.toAsterisk(target);
  if (asterisk === undefined) throw new MediaSetupError(`cannot map ${target} to Asterisk's side`);
  const existing = await readFile(target).catch(() => undefined);
  if (existing) return { file: withoutAudioExtension(asterisk), durationMs: audioDurationMs(existing, 'wav') ?? 0 };
  const wav = encodeWav(resample(decodeAudioFile(bytes, ext), 8000), 'pcm16');
  await mkdir(directory, { recursive: true });
  const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, wav);
  await rename(temp, target);
  return { file: withoutAudioExtension(asterisk), durationMs: audioDurationMs(wav, 'wav') ?? 0 };
}

/** A name without extension that matches `<name>.<audio extension>` in the media directory. */
async function findInMediaDirectory(file: string, mapping: PathMapping): Promise<{ local: string; asterisk: string } | undefined> {
  const resolved = mapping.resolve(file);
  if (resolved.local === undefined) return undefined;
  const dir = path.dirname(resolved.local);
  const base = path.basename(resolved.local);
  const names = await readdir(dir).catch(() => [] as string[]);
  // Prefer what Asterisk plays without conversion; among those, the order of the list.
  const candidates = names.filter((name) => name.startsWith(`${base}.`) && audioExtension(name) !== '' && withoutAudioExtension(name) === base);
  candidates.sort((a, b) => rank(audioExtension(a)) - rank(audioExtension(b)));
  for (const name of candidates) {
    const local = path.join(dir, name);
    if ((await stat(local).catch(() => undefined))?.isFile()) {
      const asterisk = mapping.toAsterisk(local);
      if (asterisk !== undefined) return { local, asterisk };
    }
  }
  return undefined;
}

function rank(ext: string): number {
  return ASTERISK_PLAYABLE_EXTENSIONS.has(ext) ? 0 : 1;
}

function duration(ms: number | undefined): { durationMs?: number } {
  return ms === undefined ? {} : { durationMs: ms };
}
