/**
 * AMI for a live test's Asterisk: a manager.conf that enables it on 127.0.0.1 at a port chosen per
 * run (several Asterisks share the host network), and that port. Not a test file.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';

export const AMI_USER = 'agikit';
export const AMI_SECRET = 'agikit-live-test';

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** manager.conf with AMI on 127.0.0.1:`port` and one user ({@link AMI_USER}) with these classes. */
export function managerConf(port: number, classes: { read: string; write: string } = { read: 'system,call', write: 'system,call' }): string {
  return [
    '[general]',
    'enabled = yes',
    `port = ${port}`,
    'bindaddr = 127.0.0.1',
    '',
    `[${AMI_USER}]`,
    `secret = ${AMI_SECRET}`,
    'deny = 0.0.0.0/0.0.0.0',
    'permit = 127.0.0.1/255.255.255.255',
    `read = ${classes.read}`,
    `write = ${classes.write}`,
    '',
  ].join('\n');
}
