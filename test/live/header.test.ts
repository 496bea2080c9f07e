/**
 * Live: the `agi_*` header as agikit types it (`agi.env`, `agi.args`, `agi.path`, `agi.query`,
 * `agi.params`), checked field by field against what the same channel reports through dialplan
 * variables and functions, on a real Asterisk 22.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import type { AgiEnv } from '../../src/protocol/header.js';
import { LiveRig, live, skip } from './rig.js';

/** Asterisk's named caller-ID presentations (CALLERID(pres)) and their numeric values (agi_callingpres). */
const PRESENTATION: Record<string, number> = {
  allowed_not_screened: 0x00,
  allowed_passed_screen: 0x01,
  allowed_failed_screen: 0x02,
  allowed: 0x03,
  prohib_not_screened: 0x20,
  prohib_passed_screen: 0x21,
  prohib_failed_screen: 0x22,
  prohib: 0x23,
  unavailable: 0x43,
};

/** What the channel itself says about the values the header carries. */
interface ChannelView {
  channel: string | undefined;
  uniqueid: string | undefined;
  language: string | undefined;
  type: string | undefined;
  pres: string | undefined;
  ani2: string | undefined;
  ton: string | undefined;
  dnid: string | undefined;
  rdnis: string | undefined;
  context: string | undefined;
  extension: string | undefined;
  priority: string | undefined;
  accountcode: string | undefined;
}

async function channelView(agi: Agi): Promise<ChannelView> {
  return {
    channel: await agi.getVariable('CHANNEL'),
    uniqueid: await agi.getVariable('UNIQUEID'),
    language: await agi.getFullVariable('${CHANNEL(language)}'),
    type: await agi.getFullVariable('${CHANNEL(channeltype)}'),
    pres: await agi.getFullVariable('${CALLERID(pres)}'),
    ani2: await agi.getFullVariable('${CALLERID(ani2)}'),
    ton: await agi.getFullVariable('${CALLERID(ton)}'),
    dnid: await agi.getFullVariable('${CALLERID(dnid)}'),
    rdnis: await agi.getFullVariable('${CALLERID(rdnis)}'),
    context: await agi.getVariable('CONTEXT'),
    extension: await agi.getVariable('EXTEN'),
    priority: await agi.getVariable('PRIORITY'),
    accountcode: await agi.getFullVariable('${CHANNEL(accountcode)}'),
  };
}

/** The header fields must agree with the channel's own view of them. */
function assertEnvMatchesChannel(env: AgiEnv, view: ChannelView): void {
  assert.equal(env.channel, view.channel);
  assert.equal(env.uniqueid, view.uniqueid);
  assert.equal(env.language, view.language);
  assert.equal(env.type, view.type);
  assert.equal(env.context, view.context);
  assert.equal(env.extension, view.extension);
  assert.equal(env.priority, Number(view.priority));
  assert.equal(env.accountcode, view.accountcode);
  const pres = PRESENTATION[view.pres ?? ''];
  assert.ok(pres !== undefined, `unknown presentation ${view.pres}`);
  assert.equal(env.callingpres, pres);
  assert.equal(env.callingani2, Number(view.ani2));
  assert.equal(env.callington, Number(view.ton));
  // Asterisk writes `unknown` for an empty DNID/RDNIS; agikit types that as null.
  assert.equal(env.dnid, view.dnid === '' ? null : view.dnid);
  assert.equal(env.rdnis, view.rdnis === '' ? null : view.rdnis);
}

describe('live: the AGI header', { concurrency: true }, () => {
  let rig: LiveRig | undefined;
  /** Handler of the nested session (route /hdr/nested), set by the test that uses it. */
  let nested: ((agi: Agi) => Promise<void>) | undefined;

  before(async () => {
    if (!live.ok) return;
    rig = await LiveRig.start();
    rig.server.route('/', rig.dispatch);
    rig.server.route('/hdr/:tenant/:lang', rig.dispatch);
    rig.server.route('/hdr/nested', async (agi) => {
      assert.ok(nested, 'unexpected nested session');
      await nested(agi);
    });
  });
  after(async () => {
    await rig?.stop();
  });

  it('types every agi_* field, each matching what the channel reports', { skip }, async () => {
    assert.ok(rig);
    let env: AgiEnv | undefined;
    let view: ChannelView | undefined;
    let raw: Record<string, string> = {};
    const { call } = await rig.run(
      async (agi) => {
        env = agi.env;
        raw = agi.header.raw;
        view = await channelView(agi);
      },
      { callerId: { number: '5551234', name: 'Live Tëst "one"' }, route: 't/plain' },
    );
    assert.ok(env && view);
    assertEnvMatchesChannel(env, view);
    assert.equal(env.request, rig.url('t/plain'));
    assert.equal(env.network, true);
    assert.equal(env.networkScript, 't/plain');
    assert.equal(env.context, call.appContext);
    assert.equal(env.extension, call.id);
    assert.equal(env.type, 'Local');
    assert.match(env.channel, new RegExp(`^Local/${call.id}@agikit-far-[0-9a-f]+;1$`));
    assert.ok(rig.asterisk.version.includes(env.version), `${rig.asterisk.version} vs agi_version ${env.version}`);
    assert.match(env.version, /^22\./);
    assert.equal(env.callerid, '5551234');
    assert.equal(env.calleridname, 'Live Tëst "one"');
    assert.equal(env.dnid, null);
    assert.equal(raw['agi_dnid'], 'unknown');
    assert.equal(env.enhanced, false);
    assert.equal(env.accountcode, '');
    assert.equal(raw['agi_accountcode'], '');
    // pthread_self() as %ld: digits, kept as text.
    assert.equal(typeof env.threadid, 'string');
    assert.match(env.threadid, /^\d+$/);
    assert.equal(env.callingtns, 0);
    for (const key of ['callingpres', 'callingani2', 'callington', 'callingtns', 'priority'] as const) {
      assert.ok(Number.isInteger(env[key]), `${key} is an integer`);
      assert.equal(String(env[key]), raw[`agi_${key}`], `${key} is the number Asterisk sent`);
    }
    // Every line Asterisk 22 sends, nothing more (no arguments were given).
    assert.deepEqual(Object.keys(raw).sort(), [
      'agi_accountcode', 'agi_callerid', 'agi_calleridname', 'agi_callingani2', 'agi_callingpres', 'agi_callingtns',
      'agi_callington', 'agi_channel', 'agi_context', 'agi_dnid', 'agi_enhanced', 'agi_extension', 'agi_language',
      'agi_network', 'agi_network_script', 'agi_priority', 'agi_rdnis', 'agi_request', 'agi_threadid', 'agi_type',
      'agi_uniqueid', 'agi_version',
    ]);
  });

  it('types non-default caller ID, presentation, DNID, RDNIS, account code and language (nested AGI in a GOSUB)', { skip }, async () => {
    assert.ok(rig);
    const context = 'agikit-live-hdr';
    await rig.addExtension(context, 'nest', [
      ['AGI', `${rig.url('hdr/nested')},inner arg`],
      ['Return', '${AGISTATUS}'],
    ]);
    let inner: { env: AgiEnv; view: ChannelView; args: string[] } | undefined;
    nested = async (agi) => {
      inner = { env: agi.env, view: await channelView(agi), args: agi.args };
    };
    let retval: string | undefined;
    let gosub: unknown;
    await rig.run(async (agi) => {
      await agi.setVariable('CALLERID(num)', '+1 555 0100');
      await agi.setVariable('CALLERID(name)', 'Zoë "Z" O\'Neil');
      await agi.setVariable('CALLERID(pres)', 'prohib');
      await agi.setVariable('CALLERID(ani2)', '5');
      await agi.setVariable('CALLERID(ton)', '145');
      await agi.setVariable('CALLERID(dnid)', '600');
      await agi.setVariable('CALLERID(rdnis)', '700');
      await agi.setVariable('CHANNEL(accountcode)', 'acct-1');
      await agi.setVariable('CHANNEL(language)', 'fr');
      gosub = await agi.gosub(context, 'nest', 1);
      retval = await agi.getVariable('GOSUB_RETVAL');
    });
    nested = undefined;
    assert.deepEqual(gosub, { abnormalExit: false });
    assert.equal(retval, 'SUCCESS', 'the nested AGI ended normally');
    assert.ok(inner);
    const { env, view, args } = inner;
    assertEnvMatchesChannel(env, view);
    assert.equal(env.callerid, '+1 555 0100');
    assert.equal(env.calleridname, 'Zoë "Z" O\'Neil');
    assert.equal(env.callingpres, 0x23);
    assert.equal(env.callingani2, 5);
    assert.equal(env.callington, 145);
    assert.equal(env.dnid, '600');
    assert.equal(env.rdnis, '700');
    assert.equal(env.accountcode, 'acct-1');
    assert.equal(env.language, 'fr');
    assert.equal(env.context, context);
    assert.equal(env.extension, 'nest');
    assert.equal(env.priority, 1);
    assert.equal(env.networkScript, 'hdr/nested');
    assert.deepEqual(args, ['inner arg']);
  });

  it('passes arguments with spaces, commas, quotes, colons, UTF-8 and empty values exactly', { skip }, async () => {
    assert.ok(rig);
    const args = [
      'hello world',
      'a,b,c',
      '"double" and \'single\' quotes',
      'key: value: more',
      'ünïcødé ✓ 日本語',
      '',
      'back\\slash',
      '${NOT_EXPANDED} $[1+1]',
      '(paren) [bracket] {brace}',
      'tab\there',
      '',
    ];
    let seen: string[] = [];
    let raw: Record<string, string> = {};
    await rig.run(
      async (agi) => {
        seen = agi.args;
        raw = agi.header.raw;
      },
      { args },
    );
    assert.deepEqual(seen, args);
    assert.equal(raw[`agi_arg_${args.length}`], '', 'a trailing empty argument is sent');
    assert.equal(raw[`agi_arg_${args.length + 1}`], undefined);
  });

  it('gives path, query and route parameters from the URL', { skip }, async () => {
    assert.ok(rig);
    const route = 'hdr/caf%C3%A9/fr?x=1&y=a%20b&z=%E2%9C%93&x=2';
    let got: { path: string; query: [string, string][]; params: Record<string, string>; script: string; request: string } | undefined;
    await rig.run(
      async (agi) => {
        got = { path: agi.path, query: [...agi.query], params: agi.params, script: agi.env.networkScript, request: agi.env.request };
      },
      { route },
    );
    assert.ok(got);
    // Asterisk passes the script part verbatim (no URL decoding); agikit splits it.
    assert.equal(got.script, route);
    assert.equal(got.request, rig.url(route));
    assert.equal(got.path, '/hdr/caf%C3%A9/fr');
    assert.deepEqual(got.query, [
      ['x', '1'],
      ['y', 'a b'],
      ['z', '✓'],
      ['x', '2'],
    ]);
    assert.deepEqual(got.params, { tenant: 'café', lang: 'fr' });
  });

  it('handles a URL without a path: no agi_network_script line, path "/"', { skip }, async () => {
    assert.ok(rig);
    let got: { path: string; script: string; hasLine: boolean; request: string } | undefined;
    await rig.run(
      async (agi) => {
        got = { path: agi.path, script: agi.env.networkScript, hasLine: 'agi_network_script' in agi.header.raw, request: agi.env.request };
      },
      { route: '' },
    );
    assert.deepEqual(got, { path: '/', script: '', hasLine: false, request: `agi://127.0.0.1:${rig.port}/` });
  });
});
