/**
 * What agikit does with a recording Asterisk has written into the media directory: wrap MixMonitor's
 * raw interleaved stereo into a WAV, encode MP3 with `lame`, and measure the result (`duration`,
 * `size`). Everything streams: memory stays bounded whatever the length of the recording.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseWav } from '../media/audio.js';

/** Sample rate of what Asterisk records here (`RECORD FILE ... wav`, MixMonitor's `.wav` and `D` `.raw`). */
export const RECORDING_RATE = 8000;
/** Bytes of one 16-bit sample. */
const SAMPLE_BYTES = 2;
/** Size of the canonical WAV header agikit and Asterisk's format_wav write. */
export const WAV_HEADER_BYTES = 44;

/** A 44-byte PCM WAV header for `dataBytes` of 16-bit audio. */
export function wavHeader(channels: number, sampleRate: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * SAMPLE_BYTES, 28);
  header.writeUInt16LE(channels * SAMPLE_BYTES, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/**
 * Silences one channel of interleaved 16-bit stereo (`left`: zero the left samples), across chunk
 * boundaries. MixMonitor's `D` always records both directions; a stereo recording of one direction
 * keeps the other channel silent.
 */
export class SilenceChannel extends Transform {
  /** Byte position within the current 4-byte frame. */
  private position = 0;

  constructor(private readonly channel: 'left' | 'right') {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = Buffer.from(chunk);
    const first = this.channel === 'left' ? 0 : SAMPLE_BYTES;
    for (let i = 0; i < out.length; i++) {
      const inFrame = (this.position + i) % (2 * SAMPLE_BYTES);
      if (inFrame >= first && inFrame < first + SAMPLE_BYTES) out[i] = 0;
    }
    this.position = (this.position + out.length) % (2 * SAMPLE_BYTES);
    callback(null, out);
  }
}

/**
 * Writes `raw` (MixMonitor `D`: interleaved 16-bit stereo at 8 kHz, left the channel's received audio)
 * as a 2-channel WAV at `wav`, silencing `silence` if given, and removes `raw`. A trailing half frame
 * (a recording cut mid-write) is dropped.
 */
export async function stereoWavFromRaw(raw: string, wav: string, silence?: 'left' | 'right'): Promise<void> {
  const frame = 2 * SAMPLE_BYTES;
  const dataBytes = (await stat(raw)).size;
  const whole = dataBytes - (dataBytes % frame);
  const out = createWriteStream(wav);
  out.write(wavHeader(2, RECORDING_RATE, whole));
  if (whole === 0) await new Promise<void>((resolve, reject) => out.on('error', reject).end(resolve));
  else {
    const source = createReadStream(raw, { end: whole - 1 });
    await (silence ? pipeline(source, new SilenceChannel(silence), out) : pipeline(source, out));
  }
  await rm(raw, { force: true });
}

/** Length in seconds of a PCM WAV file of `size` bytes whose first bytes are `head`. */
export function wavSeconds(head: Buffer, size: number): number {
  const info = parseWav(head);
  const dataStart = info.data.byteOffset - head.byteOffset;
  return info.byteRate > 0 ? Math.max(0, size - dataStart) / info.byteRate : 0;
}

/** The length (seconds, from its header and size) and size (bytes) of a WAV file. */
export async function measureWav(file: string): Promise<{ duration: number; size: number }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, 4096));
    await handle.read(head, 0, head.length, 0);
    return { duration: wavSeconds(head, size), size };
  } finally {
    await handle.close();
  }
}

const commandChecks = new Map<string, Promise<boolean>>();

/** Whether `command args` runs on this machine (checked once per process and command). */
export function commandAvailable(command: string, args: readonly string[]): Promise<boolean> {
  let check = commandChecks.get(command);
  if (!check) {
    check = runCommand(command, args).then(
      () => true,
      () => false,
    );
    commandChecks.set(command, check);
  }
  return check;
}

/** Whether a `lame` command runs on this machine (checked once per process). */
export function lameAvailable(): Promise<boolean> {
  return commandAvailable('lame', ['--version']);
}

/** Encodes `wav` to `mp3` with `lame` (its defaults: 8 kHz mono gives 8 kbit/s MPEG-2.5) and removes `wav`. */
export async function encodeMp3(wav: string, mp3: string): Promise<void> {
  await runCommand('lame', ['--quiet', wav, mp3]);
  await rm(wav, { force: true });
}

/** Runs a command to its end; rejects with its last stderr line when it fails. */
export function runCommand(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
}

/**
 * Waits until Asterisk has closed a file it records into, when a recording ended without agikit
 * stopping it (the call hung up, and MixMonitor closes the file in its own thread): a WAV once
 * format_wav has written the sizes into its header (it does so on close), a raw file once its size
 * has stopped changing. Gives up after `timeoutMs` (then the file is taken as it is).
 */
export async function waitUntilClosed(file: string, kind: 'wav' | 'raw', timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  let stable = 0;
  while (Date.now() < deadline) {
    const size = await stat(file).then(
      (s) => s.size,
      () => -1,
    );
    if (size >= 0 && kind === 'wav' && (await riffSize(file)) > 0) return;
    stable = size >= 0 && size === lastSize ? stable + 1 : 0;
    if (kind === 'raw' && stable >= 3) return;
    lastSize = size;
    await sleep(100);
  }
}

/** The RIFF size field of a WAV file (0 while format_wav has it open). */
async function riffSize(file: string): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    return bytesRead === 8 ? head.readUInt32LE(4) : 0;
  } finally {
    await handle.close();
  }
}
