/**
 * A PJSIP loopback on a live Asterisk ({@link StartAsteriskOptions.pjsipLoopback}): a UDP transport
 * on 127.0.0.1 at a port chosen free for this run, and one endpoint whose only contact is that very
 * transport. A SIP request sent to the endpoint (a `MessageSend` to `pjsip:PJSIP/<user>@loop`, a
 * `Dial(PJSIP/<user>@loop)`) leaves over UDP and comes back into the same Asterisk, identified as the
 * same endpoint by its source address: a SIP peer with no outside party.
 *
 * The PJSIP modules are appended to modules.conf (autoload=no) only when the loopback is asked for,
 * so the default test Asterisk still holds no network socket.
 *
 * A port found free can be taken before Asterisk binds it. PJSIP then logs `Transport ... could not
 * be started` and runs without it; the harness notices that Asterisk holds no UDP socket on the port,
 * picks another one, rewrites pjsip.conf and reloads res_pjsip.
 *
 * @module
 */

import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { asteriskSockets, loopbackHex } from './daemon-sockets.js';
import type { LiveAsterisk, LivePjsipOptions, PjsipLoopbackAccess } from './live-types.js';

/**
 * The modules a PJSIP loopback needs with autoload=no, in load order. The loader does not load a
 * module's `requires` by itself: chan_pjsip fails with "Failed to resolve dependencies" without
 * res_pjsip, res_pjsip_session and res_pjsip_pubsub, and res_pjsip without the sorcery back ends.
 */
export const PJSIP_MODULES: readonly string[] = [
  'res_sorcery_config.so', // res_pjsip's requires: sorcery back ends for pjsip.conf ...
  'res_sorcery_memory.so',
  'res_sorcery_astdb.so', // ... and for dynamic contacts
  'res_pjproject.so', // the pjproject glue (logging, pjproject.conf)
  'res_pjsip.so',
  'res_pjsip_session.so', // required by chan_pjsip and res_pjsip_messaging
  'res_pjsip_pubsub.so', // required by chan_pjsip
  'res_pjsip_endpoint_identifier_ip.so', // identify: match=127.0.0.1 (what comes back is the loop endpoint)
  'res_pjsip_messaging.so', // SIP MESSAGE in and out (MessageSend, message_context)
  'chan_pjsip.so', // PJSIP/ channels: calls over the loop too
];

/** Transport id in pjsip.conf. */
const TRANSPORT = 'agikit-udp';
const PJSIP_CONF = '/etc/asterisk/pjsip.conf';
/** Ports tried before giving up. */
const MAX_PORTS = 5;
const NAME = /^[A-Za-z0-9_.-]{1,40}$/;

/**
 * The loopback of one run, apart from the port: endpoint name and dialplan contexts.
 *
 * @param options - `true`, or names to use instead of the defaults
 * @returns the plan
 * @throws Error if a name is not letters, digits, `_`, `.` or `-`
 */
export function pjsipPlan(options: true | LivePjsipOptions): Omit<PjsipLoopbackAccess, 'port'> {
  const given = options === true ? {} : options;
  const plan = {
    host: '127.0.0.1',
    endpoint: given.endpoint ?? 'loop',
    messageContext: given.messageContext ?? 'relay-messages',
    context: given.context ?? 'agikit-continue',
  };
  for (const [what, name] of [['endpoint', plan.endpoint], ['messageContext', plan.messageContext], ['context', plan.context]] as const) {
    if (!NAME.test(name)) throw new Error(`invalid PJSIP loopback ${what} ${JSON.stringify(name)}: letters, digits, '_', '.' or '-'`);
  }
  return plan;
}

/**
 * pjsip.conf of the loopback: the transport on 127.0.0.1:`port`, the endpoint, its aor (contact: the
 * transport itself) and its identify (anything from 127.0.0.1 is this endpoint).
 *
 * @param loop - endpoint, contexts and port
 * @returns the file's text
 */
export function pjsipConf(loop: PjsipLoopbackAccess): string {
  const { endpoint, port } = loop;
  return [
    '; Written by the agikit test harness (StartAsteriskOptions.pjsipLoopback).',
    `[${TRANSPORT}]`,
    'type = transport',
    'protocol = udp',
    `bind = 127.0.0.1:${port}`,
    '; the harness moves it to another port if this one is taken (awaitPjsip)',
    'allow_reload = yes',
    '',
    `[${endpoint}]`,
    'type = endpoint',
    `transport = ${TRANSPORT}`,
    `context = ${loop.context}`,
    `message_context = ${loop.messageContext}`,
    `aors = ${endpoint}`,
    'disallow = all',
    'allow = ulaw',
    '',
    `[${endpoint}]`,
    'type = aor',
    `contact = sip:${endpoint}@127.0.0.1:${port}`,
    '',
    `[${endpoint}]`,
    'type = identify',
    `endpoint = ${endpoint}`,
    'match = 127.0.0.1',
    '',
  ].join('\n');
}

/**
 * modules.conf with the PJSIP modules appended (those already listed are not repeated).
 *
 * @param modulesConf - the modules.conf to extend (its `[modules]` section last or only)
 * @returns the extended text
 */
export function withPjsipModules(modulesConf: string): string {
  const missing = PJSIP_MODULES.filter((name) => !new RegExp(`^\\s*load\\s*=>\\s*${name.replace(/\./g, '\\.')}\\s*(;.*)?$`, 'm').test(modulesConf));
  if (missing.length === 0) return modulesConf;
  const lines = ['', '; --- Added by the agikit test harness (StartAsteriskOptions.pjsipLoopback) ---', ...missing.map((name) => `load => ${name}`), ''];
  return modulesConf.replace(/\n*$/, '\n') + lines.join('\n');
}

/**
 * A UDP port of 127.0.0.1 that nobody has bound right now (the OS picks it).
 *
 * @returns the port
 */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Does the Asterisk daemon hold a UDP socket bound to 127.0.0.1:`port`? */
async function holdsUdpPort(asterisk: Pick<LiveAsterisk, 'exec'>, port: number): Promise<boolean> {
  const local = loopbackHex(port);
  return (await asteriskSockets(asterisk)).some((socket) => socket.proto === 'udp' && socket.local === local);
}

/**
 * Wait until Asterisk holds the loopback's UDP socket; if the port turns out to be taken, move the
 * transport to another one (pjsip.conf rewritten, res_pjsip reloaded) and wait again.
 *
 * @param asterisk - the running Asterisk (its files, CLI and processes)
 * @param loop - the loopback as pjsip.conf has it now
 * @param options - timeoutMs per port (default 5000); pickPort: how to find another port
 * @returns the loopback as it is bound
 * @throws Error if no port could be bound
 */
export async function awaitPjsip(
  asterisk: Pick<LiveAsterisk, 'cli' | 'exec' | 'writeFile'>,
  loop: PjsipLoopbackAccess,
  options: { readonly timeoutMs?: number; readonly pickPort?: () => Promise<number> } = {},
): Promise<PjsipLoopbackAccess> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const tried: number[] = [];
  for (let current = loop; ; ) {
    tried.push(current.port);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await holdsUdpPort(asterisk, current.port)) return current;
      if (Date.now() >= deadline) break;
      await sleep(100);
    }
    if (tried.length >= MAX_PORTS) throw new Error(`PJSIP could not bind any of the UDP ports ${tried.join(', ')} of 127.0.0.1`);
    current = { ...current, port: await (options.pickPort ?? freeUdpPort)() };
    await asterisk.writeFile(PJSIP_CONF, pjsipConf(current));
    // A reload skips a file whose size and mtime are unchanged (whole-second mtimes in a copy).
    await asterisk.exec(['touch', PJSIP_CONF]);
    await asterisk.cli('module reload res_pjsip.so');
  }
}
