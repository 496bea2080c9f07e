/**
 * Live: channel variables (getVariable, getFullVariable, setVariable) and astdb (databasePut,
 * databaseGet, databaseDel, databaseDelTree) against a real Asterisk 22; every value is checked
 * from both sides: through agikit and through the dialplan or the Asterisk CLI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgiArgumentError } from '../../src/errors.js';
import { settle } from '../support/settle.js';
import { LiveRig, live, skip } from './rig.js';

/** Values that must survive the trip through AGI quoting and Asterisk unchanged. */
const TRICKY: Record<string, string> = {
  V_PLAIN: 'plain',
  V_SPACES_QUOTES: 'with spaces and "double quotes" and \'single\'',
  V_BACKSLASH: 'back\\slash, two \\\\ and a trailing \\',
  V_QUOTE_BACKSLASH: '\\"escaped?\\" \\',
  V_UTF8: 'Zoë ✓ 日本語 🎉 ÅÄÖ',
  V_PARENS: 'parens (a) ) (b ((',
  V_PADDED: '  leading and trailing  ',
  V_PUNCT: 'semi;colon, comma = equals | pipe & amp # hash',
  V_DOLLAR: '${NOT_EXPANDED} $[1+1]',
  V_TAB: 'tab\there',
  V_EMPTY: '',
};

describe('live: channel variables and astdb', { concurrency: true }, () => {
  let rig: LiveRig | undefined;
  before(async () => {
    if (live.ok) rig = await LiveRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it('setVariable / getVariable / getFullVariable round-trip quotes, backslashes, UTF-8 and empty values; the dialplan sees the same', { skip }, async () => {
    assert.ok(rig);
    const read: Record<string, unknown> = {};
    const full: Record<string, unknown> = {};
    let unset: unknown = 'not read';
    const { result } = await rig.run(
      async (agi) => {
        for (const [name, value] of Object.entries(TRICKY)) await agi.setVariable(name, value);
        for (const name of Object.keys(TRICKY)) {
          read[name] = await agi.getVariable(name);
          full[name] = await agi.getFullVariable(`\${${name}}`);
        }
        unset = await agi.getVariable('V_NEVER_SET');
      },
      { record: Object.keys(TRICKY) },
    );
    assert.deepEqual(read, TRICKY);
    // An empty variable is set (''); GET FULL VARIABLE cannot tell empty from unset.
    assert.deepEqual(full, TRICKY);
    assert.equal(unset, undefined);
    // What the dialplan's ${NAME} gives, recorded by the hangup handler.
    assert.deepEqual(result.variables, TRICKY);
  });

  it('reads variables the dialplan set, including one containing a line feed', { skip }, async () => {
    assert.ok(rig);
    const variables = { FROM_DIALPLAN: 'set by Set() "quoted" ✓', MULTI_LINE: 'first line\nsecond (x) line' };
    const read: Record<string, unknown> = {};
    await rig.run(
      async (agi) => {
        for (const name of Object.keys(variables)) read[name] = await agi.getVariable(name);
        // The session is still in step after the multi-line reply.
        read['AFTER'] = await agi.getVariable('FROM_DIALPLAN');
      },
      { variables },
    );
    assert.deepEqual(read, { ...variables, AFTER: variables.FROM_DIALPLAN });
  });

  it('writes and reads dialplan functions (CALLERID(name), CALLERID(num))', { skip }, async () => {
    assert.ok(rig);
    let name: unknown;
    let num: unknown;
    const { result } = await rig.run(
      async (agi) => {
        await agi.setVariable('CALLERID(name)', 'Zoë "Z" \\ O\'Neil');
        await agi.setVariable('CALLERID(num)', '+1 (555) 0100');
        name = await agi.getVariable('CALLERID(name)');
        num = await agi.getVariable('CALLERID(num)');
      },
      { record: ['CALLERID(name)', 'CALLERID(num)'] },
    );
    assert.equal(name, 'Zoë "Z" \\ O\'Neil');
    // Written through the function, the number is stored as given (SET CALLERID would shrink it).
    assert.equal(num, '+1 (555) 0100');
    assert.equal(result.variables['CALLERID(name)'], name);
    assert.equal(result.variables['CALLERID(num)'], num);
  });

  it('getVariable truncates at 1023 bytes, getFullVariable does not', { skip }, async () => {
    assert.ok(rig);
    const long = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    let short: string | undefined;
    let whole: string | undefined;
    const { result } = await rig.run(
      async (agi) => {
        await agi.setVariable('V_LONG', long);
        short = await agi.getVariable('V_LONG');
        whole = await agi.getFullVariable('${V_LONG}');
      },
      { record: ['V_LONG'] },
    );
    assert.equal(short, long.slice(0, 1023));
    assert.equal(whole, long);
    assert.equal(result.variables['V_LONG'], long);
  });

  it('accepts a command line of exactly 8191 bytes (Asterisk 22.6+ buffer) and refuses one byte more before sending', { skip }, async () => {
    assert.ok(rig);
    const overhead = Buffer.byteLength('SET VARIABLE "V_MAX" ""\n');
    // Multi-byte characters, so the limit is counted in bytes: 'é' is 2 bytes, '✓' 3.
    const unit = 'ab é ✓ ';
    const bytesPerUnit = Buffer.byteLength(unit);
    const units = Math.floor((8191 - overhead) / bytesPerUnit);
    const value = unit.repeat(units) + 'x'.repeat(8191 - overhead - units * bytesPerUnit);
    assert.equal(Buffer.byteLength(value) + overhead, 8191);
    const got: Record<string, unknown> = {};
    await rig.run(async (agi) => {
      assert.match(agi.env.version, /^22\.(\d+)/);
      got['set'] = await agi.setVariable('V_MAX', value);
      got['read'] = await agi.getFullVariable('${V_MAX}');
      got['tooLong'] = (await settle(agi.setVariable('V_MAX', `${value}x`))).error;
      // Still in step: nothing of the refused line reached Asterisk.
      got['again'] = (await agi.getFullVariable('${V_MAX}')) === value;
    });
    assert.equal(got['set'], undefined);
    assert.equal(got['read'], value);
    assert.ok(got['tooLong'] instanceof AgiArgumentError, String(got['tooLong']));
    assert.equal(got['again'], true);
  });

  it('getFullVariable evaluates expressions, on this channel or a named one', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    let channel = '';
    const { call } = await rig.run(async (agi) => {
      channel = agi.env.channel;
      got['expr'] = await agi.getFullVariable('${AGIKIT_CALL}:$[6*7]:${LEN(${AGIKIT_CALL})}');
      const other = agi.env.channel.replace(/;1$/, ';2');
      got['other'] = await agi.getFullVariable('${CHANNEL}|${CONTEXT}', other);
      got['missing'] = await agi.getFullVariable('${CHANNEL}', 'Local/no-such-channel@nowhere-00000000;1');
    });
    assert.equal(got['expr'], `${call.id}:42:${call.id.length}`);
    // The far leg (;2) of the same Local pair, in its own context.
    assert.equal(got['other'], `${channel.replace(/;1$/, ';2')}|agikit-far`);
    assert.equal(got['missing'], undefined);
  });

  it('refuses a value with a line feed before sending it; the session stays usable', { skip }, async () => {
    assert.ok(rig);
    let refused: unknown;
    let after: unknown;
    const { result } = await rig.run(
      async (agi) => {
        refused = await agi.setVariable('V_LF', 'a\nSET VARIABLE INJECTED yes').catch((e: unknown) => e);
        after = await agi.getVariable('V_LF');
      },
      { record: ['V_LF', 'INJECTED'] },
    );
    assert.ok(refused instanceof AgiArgumentError, String(refused));
    assert.equal(after, undefined);
    assert.deepEqual(result.variables, { V_LF: '', INJECTED: '' });
  });

  it('databasePut / databaseGet round-trip tricky values; the Asterisk CLI sees the same', { skip }, async () => {
    assert.ok(rig);
    const asterisk = rig.asterisk;
    const family = `agikit-live-db/${Date.now().toString(36)}`;
    const values: Record<string, string> = {
      spaces: 'a value with spaces',
      quotes: 'say "hi" \\ o\'k',
      utf8: 'Zoë ✓ 日本語',
      parens: 'x (y) ) z',
      empty: '',
    };
    const read: Record<string, unknown> = {};
    let missing: unknown = 'not read';
    let fromCli: unknown;
    await asterisk.dbPut(family, 'cli', 'written by the CLI');
    await rig.run(async (agi) => {
      for (const [key, value] of Object.entries(values)) await agi.databasePut(family, key, value);
      await agi.databasePut(`${family}/sub`, 'number', 42);
      for (const key of Object.keys(values)) read[key] = await agi.databaseGet(family, key);
      read['number'] = await agi.databaseGet(`${family}/sub`, 'number');
      missing = await agi.databaseGet(family, 'nope');
      fromCli = await agi.databaseGet(family, 'cli');
    });
    assert.deepEqual(read, { ...values, number: '42' });
    assert.equal(missing, undefined);
    assert.equal(fromCli, 'written by the CLI');
    for (const [key, value] of Object.entries(values)) {
      if (value !== '') assert.equal(await asterisk.dbGet(family, key), value, key);
    }
    assert.equal(await asterisk.dbGet(`${family}/sub`, 'number'), '42');
    await asterisk.dbDeltree(family);
  });

  it('databaseDel and databaseDelTree (whose wire result is inverted) report what happened', { skip }, async () => {
    assert.ok(rig);
    const asterisk = rig.asterisk;
    const family = `agikit-live-del/${Date.now().toString(36)}`;
    const got: Record<string, unknown> = {};
    await rig.run(async (agi) => {
      await agi.databasePut(family, 'k1', 'v1');
      await agi.databasePut(family, 'k2', 'v2');
      await agi.databasePut(`${family}/tree/a`, 'x', '1');
      await agi.databasePut(`${family}/tree/b`, 'y', '2');
      await agi.databasePut(`${family}/other`, 'z', '3');
      got['delExisting'] = await agi.databaseDel(family, 'k1');
      got['afterDel'] = await agi.databaseGet(family, 'k1');
      // Asterisk 22 reports success for a key that does not exist too.
      got['delMissing'] = await agi.databaseDel(family, 'never-there');
      got['treeDeleted'] = await agi.databaseDelTree(family, 'tree');
      got['treeAgain'] = await agi.databaseDelTree(family, 'tree');
      got['otherKept'] = await agi.databaseGet(`${family}/other`, 'z');
      got['k2Kept'] = await agi.databaseGet(family, 'k2');
      // The raw wire results of DELTREE, for the record: 0 = deleted, 1 = nothing deleted.
      await agi.databasePut(`${family}/raw`, 'r', '1');
      got['rawDeleted'] = (await agi.send(`DATABASE DELTREE ${family} raw`)).lines;
      got['rawNothing'] = (await agi.send(`DATABASE DELTREE ${family} raw`)).lines;
      got['familyDeleted'] = await agi.databaseDelTree(family);
      got['familyAgain'] = await agi.databaseDelTree(family);
    });
    assert.deepEqual(got, {
      delExisting: true,
      afterDel: undefined,
      delMissing: true,
      treeDeleted: true,
      treeAgain: false,
      otherKept: '3',
      k2Kept: 'v2',
      rawDeleted: ['200 result=0'],
      rawNothing: ['200 result=1'],
      familyDeleted: true,
      familyAgain: false,
    });
    const left = await asterisk.cli(`database show ${family}`);
    assert.match(left, /^0 results found\./m, left);
  });
});
