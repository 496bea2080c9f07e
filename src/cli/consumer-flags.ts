import path from 'node:path';
import type { AmiClientOptions } from '../ami/options.js';
import type { MediaOptions } from '../media/options.js';
import { EspeakTtsProvider } from '../media/tts.js';

/**
 * Reads `--ami ami://user:secret@host:port` (the scheme may be left out; port 5038 by default).
 * Throws an Error with a one-line message for anything else.
 */
export function parseAmiUrl(text: string): AmiClientOptions {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `ami://${text}`);
  } catch {
    throw new Error(`bad --ami ${JSON.stringify(text)}: expected ami://user:secret@host:port`);
  }
  if (url.protocol !== 'ami:' || !url.username || !url.hostname) throw new Error(`bad --ami ${JSON.stringify(text)}: expected ami://user:secret@host:port`);
  const port = url.port === '' ? 5038 : Number(url.port);
  return { host: url.hostname, port, username: decodeURIComponent(url.username), secret: decodeURIComponent(url.password) };
}

/**
 * `--media-dir DIR` (and `--asterisk-media-dir` when Asterisk sees it elsewhere): the media
 * directory, with espeak-ng text to speech writing into `DIR/tts`.
 */
export function mediaFromFlags(local: string | undefined, asterisk: string | undefined): MediaOptions | undefined {
  if (local === undefined) {
    if (asterisk !== undefined) throw new Error('--asterisk-media-dir needs --media-dir');
    return undefined;
  }
  const localRoot = path.resolve(local);
  const directory = { local: localRoot, ...(asterisk ? { asterisk } : {}) };
  const tts = new EspeakTtsProvider({ directory: { local: path.join(localRoot, 'tts'), asterisk: path.posix.join(asterisk ?? localRoot, 'tts') } });
  return { directory, tts };
}
