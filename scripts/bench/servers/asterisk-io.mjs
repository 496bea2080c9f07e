// Bench peer: asterisk.io (npm, dev-only) serving the standard call flow through its own API
// (`handler.command(line, cb(code, result, data))`, callbacks). It takes raw command lines, and it
// hands back `result` as a number (parseInt): the 4 digits of GET DATA are formatted back to 4
// places, as an application on it has to.
import { createRequire } from 'node:module';
import { serveControl } from './common.mjs';
import { freePort } from './free-port.mjs';

const require = createRequire(import.meta.url);
const aio = require('asterisk.io');

const port = await freePort();
const agi = aio.agi(port, '127.0.0.1');
agi.on('error', () => {});
agi.on('connection', (call) => {
  call.on('error', () => call.close());
  const fail = () => call.close();
  call.command('ANSWER', (code) => {
    if (code !== 200) return fail();
    call.command('GET VARIABLE "CALLERID(num)"', (code) => {
      if (code !== 200) return fail();
      call.command(`DATABASE GET "cust" "${call.agi_arg_1}"`, (code) => {
        if (code !== 200) return fail();
        call.command('STREAM FILE "welcome" "#"', (code) => {
          if (code !== 200) return fail();
          call.command('GET DATA "enter-pin" "3000" "4"', (code, result) => {
            if (code !== 200) return fail();
            const digits = String(result).padStart(4, '0');
            call.command(`SET VARIABLE "RESULT" "${digits}"`, () => call.close());
          });
        });
      });
    });
  });
});
agi.on('listening', () => serveControl({ port }, () => ({ connections: null })));
