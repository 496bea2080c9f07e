/**
 * Live: the harness's AMI option (`startAsterisk({ ami })`). The manager answers on 127.0.0.1 at the
 * port the harness reports, agikit's AmiClient logs in with the user and secret it reports, the user
 * has the classes asked for, and a port taken by someone else is given up for another one.
 *
 * Skipped, with the reason, when Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AmiClient } from '../../src/ami/client.js';
import { liveAsteriskAvailable, startAsterisk, type LiveAsterisk } from '../../src/testing/asterisk.js';
import { amiUser, awaitManager, managerConf } from '../../src/testing/live-ami.js';

const live = await liveAsteriskAvailable();
const skip = live.ok ? false : `live Asterisk unavailable: ${live.reason}`;

/** A server on 127.0.0.1 that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('live: AMI of the test Asterisk', () => {
  let asterisk: LiveAsterisk | undefined;

  before(async () => {
    if (live.ok) asterisk = await startAsterisk({ ami: { read: 'system,call', write: 'system,call,originate' } });
  });
  after(async () => {
    await asterisk?.stop();
  });

  it('reports where to log in, and AmiClient logs in and gets Pong', { skip }, async () => {
    assert.ok(asterisk?.ami);
    const { host, port, username, secret } = asterisk.ami;
    assert.equal(host, '127.0.0.1');
    assert.equal(username, 'agikit');
    assert.match(secret, /^[0-9a-f]{32}$/);
    const ami = await AmiClient.connect({ port, username, secret });
    try {
      const pong = await ami.action('Ping');
      assert.equal(pong.get('Response'), 'Success');
      assert.equal(pong.get('Ping'), 'Pong');
    } finally {
      await ami.close();
    }
  });

  it('binds 127.0.0.1 only, at the reported port, for a user with the classes asked for', { skip }, async () => {
    assert.ok(asterisk?.ami);
    const settings = await asterisk.cli('manager show settings');
    assert.match(settings, new RegExp(`TCP Bindaddress:\\s+127\\.0\\.0\\.1:${asterisk.ami.port}\\b`));
    const user = await asterisk.cli('manager show user agikit');
    assert.match(user, /read perm: system,call\b/);
    assert.match(user, /write perm: system,call,originate\b/);
    assert.match(user, /deny - 0\.0\.0\.0\/0\.0\.0\.0\n.*allow - 127\.0\.0\.1\/255\.255\.255\.255/);
  });

  it('refuses a wrong secret', { skip }, async () => {
    assert.ok(asterisk?.ami);
    const { port, username } = asterisk.ami;
    await assert.rejects(AmiClient.connect({ port, username, secret: 'not-the-secret' }));
  });

  it('moves the manager to another port when the chosen one is taken', { skip }, async () => {
    assert.ok(asterisk);
    const taken = await silentServer();
    try {
      const user = amiUser({ read: 'system', write: 'system' });
      await asterisk.writeFile('/etc/asterisk/manager.conf', managerConf(user, taken.port));
      await asterisk.exec(['touch', '/etc/asterisk/manager.conf']);
      await asterisk.cli('manager reload');
      const access = await awaitManager(asterisk, user, taken.port);
      assert.notEqual(access.port, taken.port);
      assert.match(asterisk.logs(), new RegExp(`Unable to bind AMI server to 127\\.0\\.0\\.1:${taken.port}:`));
      const ami = await AmiClient.connect({ port: access.port, username: access.username, secret: access.secret });
      try {
        assert.equal((await ami.action('Ping')).get('Response'), 'Success');
      } finally {
        await ami.close();
      }
    } finally {
      await taken.close();
    }
  });

  it('refuses AMI together with a manager.conf of its own, and bad class lists, before starting', { skip }, async () => {
    await assert.rejects(startAsterisk({ ami: true, config: { 'manager.conf': '[general]\n' } }), /either StartAsteriskOptions\.ami or a manager\.conf/);
    await assert.rejects(startAsterisk({ ami: { read: 'all\nwrite = all' } }), /invalid AMI read classes/);
  });
});
