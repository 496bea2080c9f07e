/**
 * Live: 50 simultaneous calls through one agikit FastAGI server and one Asterisk 22. Every handler
 * waits until all 50 sessions are open at once, then each interleaves its commands with the others';
 * every call must see only its own arguments, channel, variables and astdb entries, and the
 * dialplan of every call must record only its own values.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import { within } from '../support/settle.js';
import { LiveRig, live, skip } from './rig.js';

const CALLS = 50;
const STEPS = 5;

describe('live: concurrent calls', () => {
  let rig: LiveRig | undefined;
  before(async () => {
    if (live.ok) rig = await LiveRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it(`${CALLS} simultaneous calls through one server keep their own variables`, { skip, timeout: 120_000 }, async () => {
    assert.ok(rig);
    const run = randomBytes(3).toString('hex');
    let open = 0;
    let maxOpen = 0;
    let releaseAll!: () => void;
    const allOpen = new Promise<void>((resolve) => {
      releaseAll = resolve;
    });
    /** Per call: what its handler saw, checked after all calls ended. */
    const seen = new Map<string, { channel: string; uniqueid: string; extension: string; problems: string[] }>();

    const handler = async (agi: Agi): Promise<void> => {
      const [token, index] = agi.args;
      assert.ok(token && index !== undefined, 'arguments');
      const problems: string[] = [];
      seen.set(token, { channel: agi.env.channel, uniqueid: agi.env.uniqueid, extension: agi.env.extension, problems });
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      if (open === CALLS) releaseAll();
      try {
        await within(allOpen, 60_000, `only ${open} of ${CALLS} sessions were ever open at once`);
        const expect = async (what: string, actual: Promise<string | undefined>, wanted: string): Promise<void> => {
          const value = await actual;
          if (value !== wanted) problems.push(`${what}: got ${JSON.stringify(value)}, want ${JSON.stringify(wanted)}`);
        };
        await expect('MY_TOKEN', agi.getVariable('MY_TOKEN'), token);
        await expect('AGIKIT_CALL', agi.getFullVariable('${AGIKIT_CALL}'), agi.env.extension);
        await expect('UNIQUEID', agi.getVariable('UNIQUEID'), agi.env.uniqueid);
        for (let step = 0; step < STEPS; step++) {
          const value = `${token}/${step} "q" ✓`;
          // Fired without awaiting: agikit queues them; the server interleaves all calls' commands.
          const put = agi.setVariable(`STEP${step}`, value);
          const db = agi.databasePut(`agikit-live-conc/${run}/${token}`, `step${step}`, value);
          await Promise.all([put, db]);
          await expect(`STEP${step}`, agi.getVariable(`STEP${step}`), value);
          await expect(`db step${step}`, agi.databaseGet(`agikit-live-conc/${run}/${token}`, `step${step}`), value);
        }
        await agi.setVariable('MINE', `${token}|${index}|${agi.env.uniqueid}`);
      } finally {
        open -= 1;
      }
    };

    const tokens = Array.from({ length: CALLS }, (_, i) => `tok${i}x${randomBytes(3).toString('hex')}`);
    const runs = await Promise.all(
      tokens.map((token, i) =>
        rig!.run(handler, {
          args: [token, String(i)],
          variables: { MY_TOKEN: token },
          record: ['MINE', 'MY_TOKEN', ...Array.from({ length: STEPS }, (_, s) => `STEP${s}`)],
          timeoutMs: 90_000,
        }),
      ),
    );

    assert.equal(maxOpen, CALLS, 'all sessions were open at the same time');
    const uniqueids = new Set<string>();
    runs.forEach(({ call, result, end }, i) => {
      const token = tokens[i]!;
      const mine = seen.get(token);
      assert.ok(mine, `call ${i} reached the server`);
      assert.deepEqual(mine.problems, [], `call ${i}`);
      assert.equal(mine.extension, call.id, `call ${i} was handled in its own session`);
      assert.equal(end.agi.args[0], token);
      uniqueids.add(mine.uniqueid);
      assert.equal(result.agiStatus, 'SUCCESS');
      assert.equal(result.variables['MINE'], `${token}|${i}|${mine.uniqueid}`);
      assert.equal(result.variables['MY_TOKEN'], token);
      for (let step = 0; step < STEPS; step++) assert.equal(result.variables[`STEP${step}`], `${token}/${step} "q" ✓`);
    });
    assert.equal(uniqueids.size, CALLS, 'every call had its own channel');
    assert.equal(rig.server.stats.active, 0);
    await rig.asterisk.dbDeltree(`agikit-live-conc/${run}`);
  });
});
