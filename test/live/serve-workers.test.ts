/**
 * Live: `agikit serve --workers 2` in front of a real Asterisk 22. Four calls placed at once into the
 * example app (examples/hello.ts) reach both worker processes on the one port; each far leg types its
 * own digits into GET DATA, and the dialplan reads back what the app set (`DEMO_DIGITS`,
 * `AGIKIT_STATUS`). SIGTERM then drains every worker and the command exits 0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { far, startAsterisk, type LiveAsterisk } from '../../src/testing/asterisk.js';
import { spawnNode } from '../support/child.js';
import { live, skip } from './rig.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
const example = fileURLToPath(new URL('../../examples/hello.js', import.meta.url));

describe('live: agikit serve --workers', () => {
  let asterisk: LiveAsterisk | undefined;
  before(async () => {
    if (live.ok) asterisk = await startAsterisk();
  });
  after(async () => {
    await asterisk?.stop();
  });

  it('two worker processes serve four real calls on one port; each caller\'s digits reach the app; SIGTERM drains both, exit 0', { skip }, async (t: TestContext) => {
    assert.ok(asterisk);
    const serve = spawnNode(t, [bin, 'serve', example, '--port', '0', '--workers', '2']);
    const port = Number((await serve.waitFor(/"port":(\d+),"workers":2,"msg":"agikit serving/))[1]);
    const typed = ['11', '22', '33', '44'];
    const calls = await Promise.all(
      typed.map((digits) =>
        asterisk!.originate({
          agi: { port, route: 'hello' },
          // hello-world (1.4 s) plays first; GET DATA then waits 6 s for up to four digits.
          far: [far.wait(3), far.dtmf(`${digits}#`), far.wait(4)],
          record: ['DEMO_DIGITS', 'AGIKIT_STATUS'],
          timeoutMs: 40_000,
        }),
      ),
    );
    const results = await Promise.all(calls.map((call) => call.result()));
    assert.deepEqual(
      results.map((r) => [r.variables['DEMO_DIGITS'], r.variables['AGIKIT_STATUS']]),
      typed.map((digits) => [digits, 'SUCCESS']),
    );
    const servedBy = new Set([...serve.stdout().matchAll(/"worker":(\d+)[^\n]*"msg":"new call"/g)].map((m) => m[1]));
    assert.equal(servedBy.size, 2, `calls served by workers ${[...servedBy].join(', ')}`);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit('did not exit after every worker drained'), 0);
    assert.equal(serve.stdout().match(/"worker":\d+[^\n]*"msg":"draining calls before exit"/g)?.length, 2, 'each worker drained');
  });
});
