// Bench peer: ding-dong 0.1.7 (npm, dev-only) serving the standard call flow through its own API
// (promise per command). ding-dong quotes only some arguments itself (STREAM FILE, the value of SET
// VARIABLE); the others are passed quoted, so the bytes on the wire are the flow's.
import { createRequire } from 'node:module';
import { serveControl } from './common.mjs';
import { freePort } from './free-port.mjs';

const require = createRequire(import.meta.url);
const AGIServer = require('ding-dong');

const handler = async (context) => {
  try {
    const vars = await context.onEvent('variables');
    await context.answer();
    await context.getVariable('"CALLERID(num)"');
    await context.databaseGet('"cust"', `"${vars.agi_arg_1}"`);
    await context.streamFile('welcome', '#');
    const data = await context.getData('"enter-pin"', '"3000"', '"4"');
    await context.setVariable('"RESULT"', data.result);
    await context.end();
  } catch {
    context.stream.destroy?.();
  }
};

const port = await freePort();
const server = new AGIServer(handler, { debug: false }).start(port, '127.0.0.1');
server.on('listening', () => serveControl({ port }, () => ({ connections: null })));
