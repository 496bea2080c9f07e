// A free TCP port on 127.0.0.1, for peers that cannot listen on port 0 themselves (they take 0 as
// "use my default"). The port is released before the peer binds it: a race, harmless on a bench box.
import { createServer } from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
