/**
 * agikit's example application: a tiny IVR.
 *
 * Serve it with `agikit serve dist/examples/hello.js`, then from the dialplan:
 *
 *     exten => 100,1,AGI(agi://127.0.0.1:4573/hello,${CALLERID(num)})
 *      same => n,Verbose(1,agikit said ${AGIKIT_STATUS}, caller typed ${DEMO_DIGITS})
 *
 * It answers, greets the caller, collects up to four digits (ended by #), reads them back,
 * remembers them in the astdb, and says goodbye. A hangup at any point ends it cleanly.
 */
import { Router, type Agi } from 'agikit';

async function hello(agi: Agi): Promise<void> {
  agi.onHangup((reason) => {
    agi.log.info({ reason }, 'caller hung up');
  });
  await agi.answer();
  agi.log.info({ callerid: agi.env.callerid, args: agi.args }, 'new call');
  await agi.streamFile('hello-world', '#');
  const { digits, timeout } = await agi.getData('beep', 6000, 4);
  agi.log.info({ digits, timeout }, 'caller entered digits');
  if (digits !== '') {
    await agi.sayDigits(digits);
    await agi.databasePut('agikit-demo', agi.env.uniqueid, digits);
  }
  await agi.setVariable('DEMO_DIGITS', digits);
  await agi.streamFile('goodbye');
}

export default new Router().route('/hello', hello);
