/**
 * The listening half of a speech prompt: records what the caller says with `RECORD FILE` into the
 * media directory, until `endSilenceTimeout` of silence after speech, `speechTimeout`, or a key.
 *
 * `RECORD FILE`'s silence limit (`s=`) counts from the first frame, speech or not, so one recording
 * cannot both wait `initialTimeout` for speech to start and end `endSilenceTimeout` after it. The
 * capture therefore records in segments: a segment that ends in silence without speech in it is
 * dropped and the next one starts at once (until `initialTimeout`); segments with speech are kept
 * and joined into one WAV. A segment is also cut at the `initialTimeout` deadline, so a channel that
 * sends no audio frames at all (which Asterisk cannot measure as silence) still ends in time.
 *
 * @module
 */

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Agi } from '../agi/agi.js';
import type { RecordFileResult } from '../agi/results.js';
import { analyseLevels, decodeWav, encodeWav } from '../media/audio.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from '../media/call.js';
import type { PathMapping } from '../media/paths.js';
import { agiEvent } from './call.js';
import type { SpeechRules } from './prompt-options.js';
import type { RelayEvent } from './results.js';

/** Subdirectory of the media directory holding speech being recognised (removed once it has been). */
export const SPEECH_SUBDIRECTORY = '.agikit-speech';

/** A segment ending this close to its time limit ended by the limit, not by silence (ms). */
const LIMIT_TOLERANCE_MS = 250;

/** What a capture is given. */
export interface CaptureContext {
  readonly agi: Agi;
  readonly mapping: PathMapping;
  /** Unique stem of the files (the prompt's control id). */
  readonly name: string;
  readonly rules: SpeechRules;
  /** How long to wait for speech to start (ms). */
  readonly initialTimeoutMs: number;
  /** Keys that end the recording (`RECORD FILE` escape digits). */
  readonly escapeDigits: string;
  /** A key is input (a `both` prompt: the capture ends with it); otherwise it only ends the speech. */
  readonly keysAreInput: boolean;
  /** Whether the prompt has been asked to stop (checked between segments, and after a key). */
  readonly stopRequested: () => boolean;
  /** Told when a `RECORD FILE` starts and ends: only then can the stop key (AMI) end it. */
  readonly recording: (on: boolean) => void;
  /** Awaited after each `RECORD FILE` that answered, with the digit it ended on (drains a late stop key). */
  readonly recorded: (endedOn: string | null) => Promise<void>;
}

/** How a capture ended. */
export type Captured =
  /** Speech was heard: `file` (local path, 8 kHz 16-bit WAV) holds it; remove it with {@link removeCapture}. */
  | { readonly kind: 'speech'; readonly file: string; readonly durationMs: number; readonly event: RelayEvent }
  /** A key ended it (one of the escape digits). */
  | { readonly kind: 'key'; readonly key: string; readonly event: RelayEvent }
  /** No speech within `initialTimeout`. */
  | { readonly kind: 'silence'; readonly event: RelayEvent | null }
  /** The prompt was asked to stop. */
  | { readonly kind: 'stopped'; readonly event: RelayEvent | null };

/** Records the caller's speech; see the module comment. */
export async function captureSpeech(context: CaptureContext): Promise<Captured> {
  const { agi, mapping, name, rules } = context;
  const directory = path.join(mapping.localRoot, SPEECH_SUBDIRECTORY);
  await mkdir(directory, { recursive: true });
  const startedAt = Date.now();
  const initialDeadline = startedAt + context.initialTimeoutMs;
  const speechDeadline = startedAt + rules.speechTimeoutMs;
  const kept: string[] = [];
  let event: RelayEvent | null = null;
  for (let segment = 1; ; segment++) {
    if (context.stopRequested()) return discard(kept, { kind: 'stopped', event });
    const deadline = kept.length === 0 ? Math.min(initialDeadline, speechDeadline) : speechDeadline;
    const limitMs = deadline - Date.now();
    if (limitMs <= 0) break;
    const local = path.join(directory, `${name}-${segment}`);
    const asterisk = mapping.toAsterisk(local);
    if (asterisk === undefined) throw new Error(`cannot map ${local} to Asterisk's side of the media directory`);
    const sentAt = Date.now();
    context.recording(true);
    let reply: RecordFileResult;
    try {
      reply = await agi.recordFile(asterisk, 'wav', context.escapeDigits, limitMs, { silenceSeconds: rules.endSilenceSeconds }, { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS });
    } finally {
      context.recording(false);
    }
    await context.recorded(reply.digit);
    event = agiEvent('RECORD FILE', { reason: reply.reason, digit: reply.digit, endpos: reply.endpos });
    const endedBySilence = reply.reason === 'timeout' && Date.now() - sentAt < limitMs - LIMIT_TOLERANCE_MS;
    const file = `${local}.wav`;
    if (context.stopRequested()) return discard([...kept, file], { kind: 'stopped', event });
    if (await holdsSpeech(file)) kept.push(file);
    else await rm(file, { force: true });
    if (reply.digit !== null) {
      if (context.keysAreInput) return discard(kept, { kind: 'key', key: reply.digit, event });
      if (kept.length > 0) break;
    }
    // Silence after speech ends it; silence before speech only ends this segment.
    if (endedBySilence && kept.length > 0) break;
  }
  if (kept.length === 0) return { kind: 'silence', event };
  const joined = path.join(directory, `${name}.wav`);
  const durationMs = await joinWavs(kept, joined);
  await Promise.all(kept.map((file) => rm(file, { force: true })));
  return { kind: 'speech', file: joined, durationMs, event: event ?? agiEvent('RECORD FILE') };
}

/** Removes the WAV of a speech capture. */
export async function removeCapture(captured: Captured): Promise<void> {
  if (captured.kind === 'speech') await rm(captured.file, { force: true });
}

/** Whether a recorded segment holds sound (not silence or a click); a missing or empty file does not. */
async function holdsSpeech(file: string): Promise<boolean> {
  const bytes = await readFile(file).catch(() => undefined);
  if (!bytes || bytes.length <= 44) return false;
  return analyseLevels(decodeWav(bytes)).audioDetected;
}

/** Joins 8 kHz 16-bit WAV segments into one file; resolves its duration in ms. */
async function joinWavs(files: readonly string[], target: string): Promise<number> {
  const parts = await Promise.all(files.map(async (file) => decodeWav(await readFile(file))));
  const sampleRate = parts[0]?.sampleRate ?? 8000;
  const samples = new Int16Array(parts.reduce((sum, part) => sum + part.samples.length, 0));
  let offset = 0;
  for (const part of parts) {
    samples.set(part.samples, offset);
    offset += part.samples.length;
  }
  await writeFile(target, encodeWav({ sampleRate, samples }, 'pcm16'));
  return Math.round((samples.length * 1000) / sampleRate);
}

async function discard(files: readonly string[], captured: Captured): Promise<Captured> {
  await Promise.all(files.map((file) => rm(file, { force: true })));
  return captured;
}
