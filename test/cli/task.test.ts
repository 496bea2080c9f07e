import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { RedisTaskTransport } from '../../src/relay/transports/redis.js';
import { freeLocalPort } from '../../src/testing/live-ami.js';
import { spawnNode } from '../support/child.js';
import { startRedis } from '../support/redis-server.js';
import { until } from '../support/settle.js';
import { Recorder, start } from '../support/task-consumers.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
const log = pino({ level: 'silent' });
const redis = await startRedis();
after(() => ('skip' in redis ? undefined : redis.stop()));

describe('agikit task', () => {
  it('exits 0 once a consumer has the task (the JSON arrives intact), 1 when none can take it', async (t) => {
    const port = await freeLocalPort();
    const url = `http://127.0.0.1:${port}`;
    const consumer = new Recorder({ contexts: ['office'] }, { tasks: url, log, agi: { port: 0 } });
    await start(t, consumer);
    const message = { uuid: 'cli-1', text: 'Grüße 📞', nested: { to: ['+15551234'] } };
    const sent = spawnNode(t, [bin, 'task', 'office', JSON.stringify(message), '--project', 'acme', '--token', 'secret', '--url', url]);
    assert.equal(await sent.exit('did not exit'), 0, sent.stderr());
    assert.equal(sent.stdout(), `delivered to office over local-http 127.0.0.1:${port}\n`);
    await until(() => consumer.tasks.length === 1, 'the task did not arrive');
    assert.deepEqual(consumer.tasks[0]?.message, message);

    // The project and token may come from the environment (ps shows arguments).
    const fromEnv = spawnNode(t, [bin, 'task', 'home', '{}', '--url', url], { AGIKIT_PROJECT: 'acme', AGIKIT_TOKEN: 'secret' });
    assert.equal(await fromEnv.exit('did not exit'), 1);
    assert.equal(fromEnv.stderr(), 'agikit task: not delivered (no-consumer): no consumer listens on acme/home\n');

    const refused = spawnNode(t, [bin, 'task', 'office', '{}', '--project', 'acme', '--token', 'guess', '--url', url]);
    assert.equal(await refused.exit('did not exit'), 1);
    assert.match(refused.stderr(), /not delivered \(refused\)/);
    assert.equal(consumer.tasks.length, 1);
  });

  it('reads the message from standard input with "-"', async (t) => {
    const port = await freeLocalPort();
    const consumer = new Recorder({ contexts: ['office'] }, { tasks: `http://127.0.0.1:${port}`, log, agi: { port: 0 } });
    await start(t, consumer);
    const sent = spawnNode(t, [bin, 'task', 'office', '-', '--project', 'acme', '--token', 'secret', '--url', `http://127.0.0.1:${port}`]);
    sent.child.stdin.end('{"from":"stdin","lines":"a\\nb"}');
    assert.equal(await sent.exit('did not exit'), 0, sent.stderr());
    await until(() => consumer.tasks.length === 1, 'the task did not arrive');
    assert.deepEqual(consumer.tasks[0]?.message, { from: 'stdin', lines: 'a\nb' });
  });

  it('exits 2 for usage errors, saying what is wrong', async (t) => {
    const cases: Array<[string[], RegExp]> = [
      [['task', 'office', '{"a":', '--project', 'acme', '--token', 't'], /the message is not JSON/],
      [['task', 'office', '[1]', '--project', 'acme', '--token', 't'], /the message must be an object/],
      [['task', 'no such', '{}', '--project', 'acme', '--token', 't'], /bad context "no such"/],
      [['task', 'office', '{}', '--token', 't'], /--project <project>' not specified/],
      [['task', 'office', '{}', '--project', 'acme'], /--token <token>' not specified/],
      [['task', 'office', '--project', 'acme', '--token', 't'], /missing required argument 'json'/],
      [['task', 'office', '{}', '--project', 'acme', '--token', 't', '--redis', 'redis://x', '--url', 'http://127.0.0.1:1'], /cannot be used with/],
      [['task', 'office', '{}', '--project', 'acme', '--token', 't', '--url', 'http://10.1.2.3:4574'], /127\.0\.0\.1 only/],
      [['task', 'office', '{}', '--project', '', '--token', 't'], /bad project ""/],
    ];
    assert.ok(!process.env.AGIKIT_PROJECT && !process.env.AGIKIT_TOKEN, 'these cases assume no AGIKIT_PROJECT/AGIKIT_TOKEN in the environment');
    for (const [args, pattern] of cases) {
      const run = spawnNode(t, [bin, ...args]);
      assert.equal(await run.exit('did not exit'), 2, `${args.join(' ')}: ${run.stderr()}`);
      assert.match(run.stderr(), pattern, args.join(' '));
      assert.equal(run.stdout(), '');
    }
    const help = spawnNode(t, [bin, 'task', '--help']);
    assert.equal(await help.exit('did not exit'), 0);
    assert.match(help.stdout(), /Exit status: 0 when a consumer/);
  });

  it('--redis delivers through Redis Streams', { skip: 'skip' in redis ? redis.skip : false }, async (t) => {
    if ('skip' in redis) return;
    const consumer = new Recorder({ contexts: ['office'] }, { tasks: new RedisTaskTransport({ url: redis.url }), log, agi: { port: 0 } });
    await start(t, consumer);
    const sent = spawnNode(t, [bin, 'task', 'office', '{"via":"redis"}', '--project', 'acme', '--token', 'secret', '--redis', redis.url]);
    assert.equal(await sent.exit('did not exit'), 0, sent.stderr());
    assert.equal(sent.stdout(), `delivered to office over redis 127.0.0.1:${redis.port}\n`);
    await until(() => consumer.tasks.length === 1, 'the task did not arrive');
    assert.deepEqual(consumer.tasks[0]?.message, { via: 'redis' });
    const down = spawnNode(t, [bin, 'task', 'office', '{}', '--project', 'acme', '--token', 'secret', '--redis', `redis://127.0.0.1:${await freeLocalPort()}`]);
    assert.equal(await down.exit('did not exit'), 1);
    assert.match(down.stderr(), /not delivered \(unreachable\)/);
  });
});

describe('agikit serve --tasks', () => {
  it('a served consumer takes tasks from the given transport', async (t) => {
    const port = await freeLocalPort();
    const consumer = fileURLToPath(new URL('../../../test/cli/fixtures/task-office-consumer.ts', import.meta.url));
    const serve = spawnNode(t, [bin, 'serve', consumer, '--port', '0', '--tasks', `http://127.0.0.1:${port}`]);
    await until(() => serve.stderr().includes('task consumer ready'), `the consumer did not get ready: ${serve.stderr()}`, 20_000);
    const sent = spawnNode(t, [bin, 'task', 'office', '{"n":1}', '--project', 'acme', '--token', 'secret', '--url', `http://127.0.0.1:${port}`]);
    assert.equal(await sent.exit('did not exit'), 0, sent.stderr());
    await until(() => serve.stderr().includes('task office {"n":1}'), 'onTask did not run in the served consumer');
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit('did not exit on SIGTERM'), 0);
  });
});
