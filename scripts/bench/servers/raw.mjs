// The floor: the standard call flow written by hand on `node:net`, no framework. A callback state
// machine: one command in flight, each reply read up to its LF, the same bytes on the wire as agikit.
import { createServer } from 'node:net';
import { dataOf, resultOf, serveControl } from './common.mjs';

const COMMANDS = [
  () => 'ANSWER\n',
  () => 'GET VARIABLE "CALLERID(num)"\n',
  (call) => `DATABASE GET "cust" "${call.env.agi_arg_1}"\n`,
  () => 'STREAM FILE "welcome" "#"\n',
  () => 'GET DATA "enter-pin" "3000" "4"\n',
  (call) => `SET VARIABLE "RESULT" "${call.digits}"\n`,
];

const server = createServer({ noDelay: true }, (socket) => {
  const call = { env: {}, step: -1, num: undefined, cust: undefined, digits: '' };
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (text) => {
    buffer += text;
    let lf;
    while ((lf = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, lf);
      buffer = buffer.slice(lf + 1);
      if (call.step === -1) {
        if (line === '') {
          call.step = 0;
          socket.write(COMMANDS[0](call));
        } else {
          const colon = line.indexOf(':');
          call.env[line.slice(0, colon)] = line.slice(colon + 2);
        }
        continue;
      }
      if (line === 'HANGUP') continue;
      try {
        const result = resultOf(line);
        if (call.step === 1) call.num = dataOf(line);
        else if (call.step === 2) call.cust = dataOf(line);
        else if (call.step === 4) call.digits = result;
      } catch {
        socket.destroy();
        return;
      }
      call.step++;
      if (call.step < COMMANDS.length) socket.write(COMMANDS[call.step](call));
      else socket.end();
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  serveControl({ port: server.address().port }, () => ({ connections: null }));
});
