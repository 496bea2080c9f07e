/**
 * Live: the harness's PJSIP loopback (`startAsterisk({ pjsipLoopback })`). Asterisk holds one UDP
 * socket on 127.0.0.1 at the reported port (and, with AMI, the manager's TCP one: nothing else), a
 * SIP MESSAGE sent to the loop endpoint comes back into the endpoint's message_context with its
 * body, and a port taken by someone else is given up for another one.
 *
 * Skipped, with the reason, when Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { AmiClient } from '../../src/ami/client.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import { asteriskSockets, liveAsteriskAvailable, loopbackHex, startAsterisk, type DaemonSocket, type LiveAsterisk } from '../../src/testing/asterisk.js';
import { awaitPjsip, pjsipConf } from '../../src/testing/live-pjsip.js';
import type { PjsipLoopbackAccess } from '../../src/testing/live-types.js';

const live = await liveAsteriskAvailable();
const skip = live.ok ? false : `live Asterisk unavailable: ${live.reason}`;
/** Where the test's inbound MESSAGEs go: each stores its body (base64) at agikit-msg/<exten>. */
const MESSAGE_CONTEXT = 'agikit-msg-test';

/** Polls astdb until `family/key` exists; fails after `ms`. */
async function dbValue(asterisk: LiveAsterisk, family: string, key: string, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await asterisk.dbGet(family, key);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`astdb ${family}/${key} was not written within ${ms} ms: the MESSAGE did not come back`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** PJSIP's DNS resolver: an unconnected UDP socket on the any-address (IPv4 or IPv6), sending nothing by itself. */
const isResolverSocket = (s: DaemonSocket): boolean => s.proto.startsWith('udp') && /^0+:[0-9A-F]{4}$/.test(s.local) && /^0+:0000$/.test(s.remote);

describe('live: PJSIP loopback of the test Asterisk', () => {
  let asterisk: LiveAsterisk | undefined;
  let ami: AmiClient | undefined;

  before(async () => {
    if (!live.ok) return;
    asterisk = await startAsterisk({ ami: { read: 'system', write: 'message' }, pjsipLoopback: { messageContext: MESSAGE_CONTEXT } });
    assert.ok(asterisk.ami);
    ami = await AmiClient.connect({ ...asterisk.ami, logger: pino({ level: 'silent' }) });
    await asterisk.cli(addExtensionCommand(MESSAGE_CONTEXT, '_[+0-9]!', 1, 'Set', 'DB(agikit-msg/${EXTEN})=${BASE64_ENCODE(${MESSAGE(body)})}'));
  });
  after(async () => {
    await ami?.close();
    await asterisk?.stop();
  });

  /** Sends a MESSAGE through the loop to `user` and returns the body that came back. */
  async function loop(pjsip: PjsipLoopbackAccess, user: string, body: string): Promise<string> {
    assert.ok(asterisk && ami);
    const sent = await ami.action('MessageSend', { Destination: `pjsip:PJSIP/${user}@${pjsip.endpoint}`, From: '+15557654', Base64Body: Buffer.from(body).toString('base64') });
    assert.equal(sent.get('Response'), 'Success');
    return Buffer.from(await dbValue(asterisk, 'agikit-msg', user), 'base64').toString('utf8');
  }

  it('reports the loopback and binds one UDP socket on 127.0.0.1 at its port, besides the manager', { skip }, async () => {
    assert.ok(asterisk?.pjsip && asterisk.ami);
    const { host, port, endpoint, messageContext, context } = asterisk.pjsip;
    assert.deepEqual({ host, endpoint, messageContext, context }, { host: '127.0.0.1', endpoint: 'loop', messageContext: MESSAGE_CONTEXT, context: 'agikit-continue' });
    const sockets = await asteriskSockets(asterisk);
    const shown = sockets.map((s) => `${s.proto} ${s.local} ${s.remote} ${s.state}`).join('\n');
    const listening = sockets.filter((s) => !isResolverSocket(s) && !(s.proto === 'tcp' && s.state === '01'));
    assert.deepEqual(
      listening.map((s) => `${s.proto} ${s.local} ${s.state}`).sort(),
      [`tcp ${loopbackHex(asterisk.ami.port)} 0A`, `udp ${loopbackHex(port)} 07`].sort(),
      `Asterisk holds:\n${shown}`,
    );
    // res_pjsip always makes a DNS resolver from resolv.conf; the harness points it at 127.0.0.1.
    assert.ok(sockets.filter(isResolverSocket).length <= 2, shown);
    assert.equal((await asterisk.readFile('/etc/resolv.conf')).toString('utf8'), 'nameserver 127.0.0.1\n');
    assert.match(await asterisk.cli('pjsip show endpoint loop'), new RegExp(`Contact:\\s+loop/sip:loop@127\\.0\\.0\\.1:${port}\\b`));
  });

  it('brings a MESSAGE sent to the loop endpoint back into its message_context, body intact', { skip }, async () => {
    assert.ok(asterisk?.pjsip);
    const body = 'Hello loop\nline 2: héllo ✓ 😀';
    assert.equal(await loop(asterisk.pjsip, '+15550001', body), body);
  });

  it('moves the transport to another port when the chosen one is taken', { skip }, async () => {
    assert.ok(asterisk?.pjsip);
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', () => resolve()));
    try {
      const takenPort = taken.address().port;
      const wanted = { ...asterisk.pjsip, port: takenPort };
      await asterisk.writeFile('/etc/asterisk/pjsip.conf', pjsipConf(wanted));
      await asterisk.exec(['touch', '/etc/asterisk/pjsip.conf']);
      await asterisk.cli('module reload res_pjsip.so');
      const moved = await awaitPjsip(asterisk, wanted, { timeoutMs: 2000 });
      assert.notEqual(moved.port, takenPort);
      assert.notEqual(moved.port, asterisk.pjsip.port);
      const udp = (await asteriskSockets(asterisk)).filter((s) => s.proto.startsWith('udp') && !isResolverSocket(s));
      assert.deepEqual(udp.map((s) => s.local), [loopbackHex(moved.port)]);
      assert.equal(await loop(moved, '+15550002', 'after the move'), 'after the move');
    } finally {
      taken.close();
    }
  });

  it('refuses a pjsip.conf of its own together with the loopback, and bad names, before starting', { skip }, async () => {
    await assert.rejects(startAsterisk({ pjsipLoopback: true, config: { 'pjsip.conf': '' } }), /either StartAsteriskOptions\.pjsipLoopback or a pjsip\.conf/);
    await assert.rejects(startAsterisk({ pjsipLoopback: { endpoint: 'a b' } }), /invalid PJSIP loopback endpoint/);
  });
});
