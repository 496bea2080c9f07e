/**
 * AMI on a live Asterisk ({@link StartAsteriskOptions.ami}): a manager.conf that enables the manager
 * on 127.0.0.1 with one user and a random secret, on a port chosen free for this run (containers
 * share the host network, so a fixed port would collide), and a wait until the manager really
 * answers on it.
 *
 * A port found free can be taken by someone else before Asterisk binds it. Asterisk then logs
 * `Unable to bind AMI server to 127.0.0.1:<port>` and carries on without AMI, so the harness picks
 * another port, rewrites manager.conf and runs `manager reload`, which binds the new one.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AmiAccess, LiveAmiOptions, LiveAsterisk } from './live-types.js';

/** The manager user the harness creates. */
const AMI_USERNAME = 'agikit';
/** First line the manager sends on a new connection. */
const AMI_BANNER = /^Asterisk Call Manager\//;
/** How long a connection may take to show the banner before the port counts as someone else's. */
const BANNER_TIMEOUT_MS = 3000;
/** Ports tried before giving up. */
const MAX_PORTS = 5;
const CLASS_LIST = /^[a-z]+(,[a-z]+)*$/;
const MANAGER_CONF = '/etc/asterisk/manager.conf';

/** The manager user of one run: what goes into manager.conf, apart from the port. */
export interface AmiUser {
  readonly username: string;
  readonly secret: string;
  /** Event classes the user may read, e.g. `all` or `system,call`. */
  readonly read: string;
  /** Action classes the user may use. */
  readonly write: string;
}

/**
 * The user for {@link StartAsteriskOptions.ami}: `agikit`, a random secret, and the classes asked
 * for (`all` by default).
 *
 * @param options - `true`, or the read and write classes
 * @returns the user
 * @throws Error if a class list is not comma-separated lowercase words
 */
export function amiUser(options: true | LiveAmiOptions): AmiUser {
  const read = options === true ? 'all' : (options.read ?? 'all');
  const write = options === true ? 'all' : (options.write ?? 'all');
  for (const [what, classes] of [['read', read], ['write', write]] as const) {
    if (!CLASS_LIST.test(classes)) throw new Error(`invalid AMI ${what} classes ${JSON.stringify(classes)}: use e.g. "all" or "system,call"`);
  }
  return { username: AMI_USERNAME, secret: randomBytes(16).toString('hex'), read, write };
}

/**
 * manager.conf enabling AMI on 127.0.0.1:`port` for `user` only, from 127.0.0.1 only.
 *
 * @param user - the manager user
 * @param port - TCP port
 * @returns the file's text
 */
export function managerConf(user: AmiUser, port: number): string {
  return [
    '; Written by the agikit test harness (StartAsteriskOptions.ami).',
    '[general]',
    'enabled = yes',
    'webenabled = no',
    'bindaddr = 127.0.0.1',
    `port = ${port}`,
    '',
    `[${user.username}]`,
    `secret = ${user.secret}`,
    'deny = 0.0.0.0/0.0.0.0',
    'permit = 127.0.0.1/255.255.255.255',
    `read = ${user.read}`,
    `write = ${user.write}`,
    '',
  ].join('\n');
}

/**
 * A TCP port of 127.0.0.1 that nobody listens on right now (the OS picks it).
 *
 * @returns the port
 */
export async function freeLocalPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('could not find a free TCP port');
  return address.port;
}

/** What answered on a port. */
type Probe = 'manager' | 'refused' | 'other';

/** Connects to 127.0.0.1:`port` and reads the first line: Asterisk's manager, nobody, or someone else. */
function probe(port: number): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (result: Probe): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('other'), BANNER_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      text += data;
      if (AMI_BANNER.test(text)) done('manager');
      else if (text.includes('\n') || text.length > 200) done('other');
    });
    socket.on('error', () => done('refused'));
    socket.on('close', () => done(text === '' ? 'refused' : 'other'));
  });
}

/** Has Asterisk said it could not bind the manager to this port? */
function bindFailed(asterisk: Pick<LiveAsterisk, 'logs'>, port: number): boolean {
  return asterisk.logs().includes(`Unable to bind AMI server to 127.0.0.1:${port}:`);
}

/**
 * Wait until Asterisk's manager answers on `port`; if the port turns out to be taken, move the
 * manager to another one (manager.conf rewritten, `manager reload`) and wait again.
 *
 * @param asterisk - the running Asterisk (its CLI, files, and console, where a failed bind shows)
 * @param user - the manager user, as in manager.conf
 * @param port - the port manager.conf names now
 * @param options - timeoutMs: for all of it (default 15000); pickPort: how to find another port
 * @returns where and how to log in
 * @throws Error if the manager does not answer in time
 */
export async function awaitManager(
  asterisk: Pick<LiveAsterisk, 'cli' | 'exec' | 'writeFile' | 'logs'>,
  user: AmiUser,
  port: number,
  options: { readonly timeoutMs?: number; readonly pickPort?: () => Promise<number> } = {},
): Promise<AmiAccess> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  const tried: number[] = [];
  for (let current = port; ; ) {
    tried.push(current);
    for (;;) {
      if (bindFailed(asterisk, current)) break;
      const found = await probe(current);
      if (found === 'manager') return { host: '127.0.0.1', port: current, username: user.username, secret: user.secret };
      if (found === 'other') break;
      if (Date.now() >= deadline) {
        throw new Error(`Asterisk's manager did not answer on 127.0.0.1:${current} within ${timeoutMs} ms`);
      }
      await sleep(50);
    }
    if (tried.length >= MAX_PORTS || Date.now() >= deadline) {
      throw new Error(`Asterisk's manager could not bind any of the ports ${tried.join(', ')} of 127.0.0.1`);
    }
    current = await (options.pickPort ?? freeLocalPort)();
    await asterisk.writeFile(MANAGER_CONF, managerConf(user, current));
    // A reload skips a file whose size and mtime are unchanged, and a copy into the container has
    // whole-second mtimes: a second rewrite within the same second would go unnoticed.
    await asterisk.exec(['touch', MANAGER_CONF]);
    await asterisk.cli('manager reload');
  }
}
