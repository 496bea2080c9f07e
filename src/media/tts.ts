/**
 * Text to speech for {@link FilePlayer.say}: the {@link TtsProvider} interface, and
 * {@link EspeakTtsProvider}, a provider on Debian's `espeak-ng` that needs no network and no account.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AgiArgumentError } from '../errors.js';
import { decodeWav, encodeWav, resample } from './audio.js';
import { MediaSetupError } from './errors.js';
import { audioDurationMs } from './formats.js';
import { PathMapping, type MediaDirectory } from './paths.js';

/** What to say it with. */
export interface TtsOptions {
  /** Language, e.g. `en`, `en-us`, `fr` (the player passes the channel's `agi_language` by default). */
  language?: string;
  /** A voice of that language, provider-specific (for espeak-ng a variant such as `f3` or `m2`). */
  voice?: string;
}

/** A synthesized sound file. */
export interface SynthesizedSpeech {
  /** The file as Asterisk will play it: its path (or sound name) **without extension**. */
  readonly file: string;
  /** Its duration in ms, when known (used to estimate how long playing it takes). */
  readonly durationMs?: number;
}

/** Turns text into a sound file Asterisk can play. */
export interface TtsProvider {
  /** Synthesizes `text` (or returns a cached file for the same text, language and voice). */
  synthesize(text: string, options?: TtsOptions): Promise<SynthesizedSpeech>;
}

/** Options of {@link EspeakTtsProvider}. */
export interface EspeakTtsOptions {
  /**
   * Where the sound files go: a directory agikit writes and Asterisk reads (the media directory or
   * a subdirectory of it, as both sides see it).
   */
  directory: MediaDirectory;
  /** The program (default `espeak-ng`). */
  command?: string;
  /** Language when the caller gives none (default `en`). */
  defaultLanguage?: string;
  /** Speaking rate in words per minute (espeak-ng's default is 175). */
  wordsPerMinute?: number;
  /** Longest time one synthesis may take (default 20000 ms). */
  timeoutMs?: number;
}

const NAME = /^[A-Za-z0-9_-]{1,40}$/;

/**
 * Text to speech with `espeak-ng` (`apt-get install espeak-ng`; `scripts/install-espeak.sh` does it).
 * espeak-ng writes 22.05 kHz audio; agikit resamples it to 8 kHz 16-bit mono WAV, the format
 * Asterisk plays without transcoding on a telephone channel, and stores it as
 * `<directory>/<sha256 of text, language, voice, rate>.wav`. The same text is synthesized once:
 * later calls, and concurrent ones, share the file. Files are never deleted by agikit; clean the
 * directory as you see fit.
 *
 * espeak-ng must run where agikit runs; Asterisk only needs to reach the directory (same host, a
 * shared volume or a container mount: see {@link MediaDirectory}).
 */
export class EspeakTtsProvider implements TtsProvider {
  private readonly mapping: PathMapping;
  private readonly inFlight = new Map<string, Promise<SynthesizedSpeech>>();

  constructor(private readonly options: EspeakTtsOptions) {
    this.mapping = new PathMapping(options.directory);
  }

  synthesize(text: string, options: TtsOptions = {}): Promise<SynthesizedSpeech> {
    const language = options.language ?? this.options.defaultLanguage ?? 'en';
    if (!NAME.test(language)) return Promise.reject(new AgiArgumentError(`invalid language ${JSON.stringify(language)}`));
    if (options.voice !== undefined && !NAME.test(options.voice)) return Promise.reject(new AgiArgumentError(`invalid voice ${JSON.stringify(options.voice)}`));
    const voice = options.voice === undefined ? language : `${language}+${options.voice}`;
    const key = createHash('sha256')
      .update(JSON.stringify(['espeak-ng', text, voice, this.options.wordsPerMinute ?? null]))
      .digest('hex');
    let job = this.inFlight.get(key);
    if (!job) {
      job = this.produce(key, text, voice).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, job);
    }
    return job;
  }

  private async produce(key: string, text: string, voice: string): Promise<SynthesizedSpeech> {
    const localFile = path.join(this.mapping.localRoot, `${key}.wav`);
    const file = this.mapping.toAsterisk(localFile)?.replace(/\.wav$/, '') ?? '';
    const cached = await readFile(localFile).catch(() => undefined);
    if (cached) return { file, ...optionalDuration(audioDurationMs(cached, 'wav')) };
    const raw = await this.runEspeak(text, voice);
    const wav = encodeWav(resample(decodeWav(raw), 8000), 'pcm16');
    await mkdir(this.mapping.localRoot, { recursive: true });
    // Write then rename, so that Asterisk (or a concurrent process) never reads half a file.
    const temp = `${localFile}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, wav);
    await rename(temp, localFile);
    return { file, ...optionalDuration(audioDurationMs(wav, 'wav')) };
  }

  private runEspeak(text: string, voice: string): Promise<Buffer> {
    const args = ['--stdin', '--stdout', '-v', voice];
    if (this.options.wordsPerMinute !== undefined) args.push('-s', String(Math.round(this.options.wordsPerMinute)));
    const command = this.options.command ?? 'espeak-ng';
    const timeoutMs = this.options.timeoutMs ?? 20_000;
    return new Promise<Buffer>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new MediaSetupError(`cannot run ${command} for text to speech (${error.message}); install espeak-ng (apt-get install espeak-ng, or scripts/install-espeak.sh in agikit's repository)`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(Buffer.concat(out));
        else reject(new MediaSetupError(`${command} failed (${signal ?? `exit ${code}`}): ${err.trim() || 'no message'}`));
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(text);
    });
  }
}

function optionalDuration(ms: number | undefined): { durationMs?: number } {
  return ms === undefined ? {} : { durationMs: ms };
}
