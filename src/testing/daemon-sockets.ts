/**
 * The TCP and UDP sockets the Asterisk daemon of a live container holds: the socket inodes of its
 * file descriptors, looked up in the kernel's tables (/proc/net/tcp, tcp6, udp, udp6). With host
 * networking those tables list every socket of the machine, hence the match by inode. The CLI
 * control socket is a UNIX socket and is not listed.
 *
 * @module
 */

import type { LiveAsterisk } from './live-types.js';

/** One socket, as the kernel lists it. */
export interface DaemonSocket {
  readonly proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  /** Local address and port in the kernel's hex form, e.g. `0100007F:1F90` for 127.0.0.1:8080. */
  readonly local: string;
  /** Remote address and port, `00000000:0000` when not connected. */
  readonly remote: string;
  /** Hex state: `0A` a TCP listener, `01` an established TCP connection, `07` a UDP socket. */
  readonly state: string;
}

/**
 * The kernel's hex form of 127.0.0.1:`port`, as in {@link DaemonSocket.local}.
 *
 * @param port - the port
 * @returns e.g. `0100007F:1F90`
 */
export function loopbackHex(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The TCP and UDP sockets Asterisk holds now.
 *
 * @param asterisk - the running Asterisk
 * @returns its sockets (none for the default configuration)
 * @throws Error if the daemon or its file descriptors cannot be found
 */
export async function asteriskSockets(asterisk: Pick<LiveAsterisk, 'exec'>): Promise<DaemonSocket[]> {
  const script = [
    'pid=$(for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = asterisk ] && echo ${p#/proc/}; done | sort -n | head -n 1)',
    'ls -l /proc/$pid/fd 2>/dev/null | sed -n "s/.*socket:\\[\\([0-9]*\\)\\]/\\1/p" > /tmp/agikit-inodes',
    'test -s /tmp/agikit-inodes || { echo "no sockets found for pid $pid"; exit 2; }',
    'for f in tcp tcp6 udp udp6; do awk -v f=$f \'NR > 1 { print f, $2, $3, $4, $10 }\' /proc/net/$f; done | grep -wFf /tmp/agikit-inodes || true',
  ].join('\n');
  const r = await asterisk.exec(['sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`cannot list Asterisk's sockets (exit ${r.exitCode}): ${r.stdout}${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [proto, local = '', remote = '', state = ''] = line.trim().split(/\s+/);
      return { proto: proto as DaemonSocket['proto'], local, remote, state };
    });
}
