import path from 'node:path';
import type { Logger } from 'pino';
import type { AmiClientOptions } from '../ami/client.js';
import type { MediaOptions } from '../media/options.js';
import { EspeakTtsProvider } from '../media/tts.js';
import type { RelayConnection } from '../relay/consumer.js';
import type { FastAgiServerOptions } from '../server/fastagi-server.js';
import type { ConsumerClass } from './load-app.js';

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

/** What `agikit serve` hands a consumer it runs. */
export interface ConsumerServeSettings {
  host: string;
  port: number;
  log: Logger;
  ami?: AmiClientOptions;
  media?: MediaOptions;
  server: Omit<FastAgiServerOptions, 'host' | 'port' | 'router' | 'logger'>;
  drainTimeoutMs: number;
}

/**
 * Runs a Relay consumer class the way `agikit serve` runs a handler: the CLI's settings are its
 * connection (its `setup()` may still change them), SIGTERM/SIGINT drain its calls, then
 * `teardown()`; resolves once it has stopped.
 */
export async function serveConsumer(ConsumerType: ConsumerClass, settings: ConsumerServeSettings): Promise<void> {
  const connection: RelayConnection = {
    agi: { host: settings.host, port: settings.port },
    log: settings.log,
    server: settings.server,
    drainTimeoutMs: settings.drainTimeoutMs,
    ...(settings.ami ? { ami: settings.ami } : {}),
    ...(settings.media ? { media: settings.media } : {}),
  };
  await new ConsumerType(connection).run();
}
