// A second hand-written baseline, for diagnosis only: the same flow as raw.mjs, but written the way an
// application reads: `await request(line)` with one promise per command. The gap between raw and
// raw-async is what async/await itself costs; the gap between raw-async and agikit is the framework.
import { createServer } from 'node:net';
import { dataOf, resultOf, serveControl } from './common.mjs';

const server = createServer({ noDelay: true }, (socket) => {
  const env = {};
  let buffer = '';
  let inHeader = true;
  let waiter;
  let headerDone;
  const header = new Promise((resolve) => (headerDone = resolve));
  const request = (line) =>
    new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      socket.write(line);
    });
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('close', () => waiter?.reject(new Error('closed')));
  socket.on('data', (text) => {
    buffer += text;
    let lf;
    while ((lf = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, lf);
      buffer = buffer.slice(lf + 1);
      if (inHeader) {
        if (line === '') {
          inHeader = false;
          headerDone();
        } else {
          const colon = line.indexOf(':');
          env[line.slice(0, colon)] = line.slice(colon + 2);
        }
      } else if (line !== 'HANGUP' && waiter) {
        const w = waiter;
        waiter = undefined;
        w.resolve(line);
      }
    }
  });
  const flow = async () => {
    await header;
    resultOf(await request('ANSWER\n'));
    dataOf(await request('GET VARIABLE "CALLERID(num)"\n'));
    dataOf(await request(`DATABASE GET "cust" "${env.agi_arg_1}"\n`));
    resultOf(await request('STREAM FILE "welcome" "#"\n'));
    const digits = resultOf(await request('GET DATA "enter-pin" "3000" "4"\n'));
    resultOf(await request(`SET VARIABLE "RESULT" "${digits}"\n`));
    socket.end();
  };
  flow().catch(() => socket.destroy());
});

server.listen(0, '127.0.0.1', () => {
  serveControl({ port: server.address().port }, () => ({ connections: null }));
});
