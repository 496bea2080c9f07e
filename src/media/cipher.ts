/**
 * Encryption of finished recordings ({@link RecordOptions.cipher}): AES-256-GCM with Node's crypto.
 *
 * File layout, replacing the recording in place (same name):
 *
 * | bytes | content |
 * |---|---|
 * | 8 | magic `AGIKENC1` |
 * | 12 | random nonce (IV) |
 * | n | ciphertext of the whole original file (header included) |
 * | 16 | GCM authentication tag |
 *
 * The magic is also the GCM additional authenticated data, so it cannot be altered unnoticed.
 * Decrypt with {@link decryptRecording}.
 *
 * @module
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AgiArgumentError } from '../errors.js';

/** The key a recording is encrypted with. */
export interface RecordingCipher {
  /** 32 bytes (AES-256). Keep it out of the call flow's logs. */
  readonly key: Uint8Array;
}

/** First bytes of an encrypted recording. */
export const ENCRYPTED_RECORDING_MAGIC = Buffer.from('AGIKENC1', 'ascii');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes an encrypted recording has beyond the plain one (magic, nonce, tag). */
export const ENCRYPTION_OVERHEAD_BYTES = ENCRYPTED_RECORDING_MAGIC.length + NONCE_BYTES + TAG_BYTES;

function checkKey(cipher: RecordingCipher): void {
  if (cipher.key.length !== 32) throw new AgiArgumentError(`AES-256-GCM needs a 32-byte key, got ${cipher.key.length} bytes`);
}

/** Encrypts a recording's bytes into the layout above (a fresh random nonce each time). */
export function encryptRecording(plain: Uint8Array, cipher: RecordingCipher): Buffer {
  checkKey(cipher);
  const nonce = randomBytes(NONCE_BYTES);
  const gcm = createCipheriv('aes-256-gcm', cipher.key, nonce);
  gcm.setAAD(ENCRYPTED_RECORDING_MAGIC);
  const body = Buffer.concat([gcm.update(plain), gcm.final()]);
  return Buffer.concat([ENCRYPTED_RECORDING_MAGIC, nonce, body, gcm.getAuthTag()]);
}

/**
 * Decrypts what {@link encryptRecording} produced.
 *
 * @throws Error when the data is not an encrypted recording, or the key or data is wrong (GCM check)
 */
export function decryptRecording(data: Uint8Array, cipher: RecordingCipher): Buffer {
  checkKey(cipher);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const head = ENCRYPTED_RECORDING_MAGIC.length;
  if (buf.length < head + NONCE_BYTES + TAG_BYTES || !buf.subarray(0, head).equals(ENCRYPTED_RECORDING_MAGIC)) {
    throw new Error('not an agikit encrypted recording');
  }
  const nonce = buf.subarray(head, head + NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const gcm = createDecipheriv('aes-256-gcm', cipher.key, nonce);
  gcm.setAAD(ENCRYPTED_RECORDING_MAGIC);
  gcm.setAuthTag(tag);
  return Buffer.concat([gcm.update(buf.subarray(head + NONCE_BYTES, buf.length - TAG_BYTES)), gcm.final()]);
}
