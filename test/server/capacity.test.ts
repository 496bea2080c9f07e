/**
 * Capacity follows what really costs something: open sessions. A handler that outlives its session
 * (it caught the hangup and never returns) must not hold a `maxConnections` slot for the life of the
 * process; it is counted in `stats.lingering` and reported with its route and age.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FastAgiServer } from '../../src/server/fastagi-server.js';
import { FakeCall } from '../../src/testing/fake-asterisk.js';
import { capturingLogger } from '../support/fake-server.js';
import { until } from '../support/settle.js';

describe('capacity after lingering handlers', () => {
  it('two handlers that catch the hangup and never return: their sessions close, their slots come back, and they are reported', async () => {
    const { logger, lines: logs } = capturingLogger('info');
    const server = new FastAgiServer({ port: 0, logger, maxConnections: 2, hangupGraceMs: 100 });
    server.route('/stuck', async (agi) => {
      try {
        await agi.waitForDigit(-1);
      } catch {
        // Caught the hangup ...
      }
      await new Promise(() => {}); // ... and never returns.
    });
    server.route('/ok', async (agi) => {
      await agi.noop('served');
    });
    const { port } = await server.listen();
    try {
      const stuck = await Promise.all([FakeCall.connect(port, { script: 'stuck' }), FakeCall.connect(port, { script: 'stuck' })]);
      for (const call of stuck) {
        await call.nextCommand();
        call.hangup();
        call.reply('200 result=-1');
        call.respond(() => '200 result=1');
      }
      // hangupGraceMs later agikit closes both sessions for their handlers, saying why.
      await Promise.all(stuck.map((call) => call.closed));

      // Later calls are served, not refused BUSY.
      for (let i = 0; i < 3; i++) {
        const later = await FakeCall.connect(port, { script: 'ok' });
        later.respond(() => '200 result=1');
        await later.closed;
        assert.deepEqual(later.commands.map((c) => c.words[0]), ['NOOP', 'SET'], `call ${i}: ${JSON.stringify(later.commands)}`);
        assert.deepEqual(later.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS']);
      }
      assert.equal(server.stats.calls.BUSY, 0);
      await until(() => server.stats.active === 0, `slots still held: ${JSON.stringify(server.stats)}`, 2000);
      assert.equal(server.stats.lingering, 2);
      assert.equal(server.stats.closedByAgikit.LINGERED, 2);
      for (const call of stuck) assert.deepEqual(call.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'LINGERED']);

      // Each lingering handler is reported with its route and age.
      await until(() => logs.filter((l) => l.msg === 'handler still running after its session closed').length === 2, 'lingering handlers not reported', 3000);
      for (const line of logs.filter((l) => l.msg === 'handler still running after its session closed')) {
        assert.equal(line.route, '/stuck');
        assert.equal(line.level, 40, 'a warning');
        assert.ok(typeof line.ageMs === 'number' && line.ageMs >= 1000, `age ${String(line.ageMs)}`);
        assert.ok(line.uniqueid, 'on the call\'s logger');
      }
      assert.equal(server.stats.lingering, 2, 'still running, still counted');
    } finally {
      await server.close({ timeoutMs: 500 });
    }
  });
});
