/**
 * Live: Relay fax against a real Asterisk 22 (res_fax + res_fax_spandsp). Both ends are agikit
 * Calls of the rig's consumer: one Local channel, whose `;1` half (the call the harness places)
 * runs `faxSend` and whose `;2` half (the far leg, sent into the same consumer with `AGI()`) runs
 * `faxReceive`. The fax goes over the Local channel's audio (spandsp's V.17/V.29 modems, no T.38).
 * The test checks res_fax's `FAXSTATUS` on both sides, the station ids each side saw of the other,
 * the pages, the `fax.*` events, and the received file itself: read back from the bind-mounted media
 * directory by agikit's TIFF reader and by libtiff's `tiffinfo` when the machine has it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Call } from '../../src/relay/call.js';
import { RelayCapabilityError } from '../../src/relay/errors.js';
import type { FaxAction } from '../../src/relay/fax.js';
import type { FaxResult } from '../../src/relay/results.js';
import { readTiff } from '../../src/relay/tiff.js';
import { far, fastAgiUrl } from '../../src/testing/asterisk.js';
import { within } from '../support/settle.js';
import { blankFaxPage } from '../support/fax-tiff.js';
import { newCallId } from './rig.js';
import { RelayRig, skip } from './relay-rig.js';

/** Installs ghostscript with the project's script; the reason when it cannot. */
function ghostscriptUnavailable(): string | false {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const r = spawnSync('bash', [path.join(root, 'scripts', 'install-command.sh'), 'gs', 'ghostscript'], { encoding: 'utf8' });
  return r.status === 0 ? false : `ghostscript unavailable, so no PDF can be made or converted: ${r.stderr.trim() || `install-command.sh exited ${r.status}`}`;
}

/** A one-page PostScript document: a frame and a line of text. */
const PAGE_PS = `%!PS
/Helvetica findfont 36 scalefont setfont
72 600 moveto (agikit fax test page) show
4 setlinewidth 60 60 moveto 552 60 lineto 552 732 lineto 60 732 lineto closepath stroke
showpage
`;

/** What one side of a fax saw. */
interface Side {
  readonly result: FaxResult;
  readonly pages: number[];
  readonly states: string[];
  /** ms from the start of the fax to each `fax.page`, and to its end. */
  readonly pageAtMs: number[];
  readonly endAtMs: number;
}

/** Runs `work` on a call, collecting its `fax.*` events. */
async function faxSide(call: Call, work: (call: Call) => Promise<FaxAction>): Promise<Side> {
  const pages: number[] = [];
  const pageAtMs: number[] = [];
  const states: string[] = [];
  const start = Date.now();
  call.on('fax.page', (_action, n) => {
    pages.push(n);
    pageAtMs.push(Date.now() - start);
  });
  call.on('fax.stateChange', (action) => states.push(`stateChange:${action.state}`));
  call.on('fax.finished', (action) => states.push(`finished:${action.state}`));
  call.on('fax.error', (action) => states.push(`error:${action.state}`));
  const action = await work(call);
  const result = await within(action.done, 120_000, 'the fax to end');
  return { result, pages, pageAtMs, states, endAtMs: Date.now() - start };
}

/**
 * One Local channel whose two halves are both calls of the rig's consumer: the `;1` half runs
 * `send`, the `;2` half (caller id `faxreceiver`) runs `receive`. Resolves with both sides.
 */
async function faxPair(rig: RelayRig, send: (call: Call) => Promise<Side>, receive: (call: Call) => Promise<Side>): Promise<{ sender: Side; receiver: Side }> {
  const id = newCallId();
  let senderSide: ((side: Side) => void) | undefined;
  let receiverSide: ((side: Side) => void) | undefined;
  let failed: ((error: unknown) => void) | undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  const sender = new Promise<Side>((resolve) => (senderSide = resolve));
  const receiver = new Promise<Side>((resolve) => (receiverSide = resolve));
  const remove = rig.addScript(id, async (call) => {
    try {
      if (call.fromNumber === 'faxreceiver') receiverSide?.(await receive(call));
      else senderSide?.(await send(call));
    } catch (error) {
      failed?.(error);
    }
  });
  try {
    const placed = await rig.asterisk.originate({
      callId: id,
      agi: { port: rig.port, route: 'relay/live' },
      callerId: { number: 'faxsender' },
      far: [far.app('Set', 'CALLERID(num)=faxreceiver'), far.app('AGI', fastAgiUrl(rig.port, 'relay/live')), far.app('Hangup')],
      timeoutMs: 150_000,
    });
    const sides = await within(Promise.race([Promise.all([sender, receiver]), failure]), 150_000, 'both fax legs to end');
    await within(placed.result(), 30_000, 'the call to end');
    return { sender: sides[0], receiver: sides[1] };
  } finally {
    remove();
  }
}

describe('Relay fax (live)', { skip }, () => {
  let rig: RelayRig;
  const gsMissing = skip ? false : ghostscriptUnavailable();
  const work = mkdtempSync('/tmp/agikit-fax-doc-');

  before(async () => {
    rig = await RelayRig.start();
  });
  after(async () => {
    await rig?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('faxSend of a PDF (made by gs from PostScript, converted to TIFF-F) to a call that faxReceives: FAXSTATUS SUCCESS on both, 1 page, the received TIFF valid', { skip: gsMissing }, async (t) => {
    // The document lies outside the media directory: agikit converts it into the media directory.
    writeFileSync(path.join(work, 'page.ps'), PAGE_PS);
    const pdf = path.join(work, 'page.pdf');
    const made = spawnSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pdfwrite', `-sOutputFile=${pdf}`, path.join(work, 'page.ps')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');

    const { sender, receiver } = await faxPair(
      rig,
      (call) => faxSide(call, (c) => c.faxSendAsync({ document: pdf, identity: '+15550001', header: 'agikit live fax' })),
      (call) => faxSide(call, (c) => c.faxReceiveAsync({ identity: '+15550002' })),
    );
    t.diagnostic(`sender: ${JSON.stringify({ ...sender.result, event: sender.result.event?.payload })} pages ${JSON.stringify(sender.pages)} at ${JSON.stringify(sender.pageAtMs)} ms, ended at ${sender.endAtMs} ms`);
    t.diagnostic(`receiver: ${JSON.stringify({ ...receiver.result, event: receiver.result.event?.payload })} pages ${JSON.stringify(receiver.pages)} at ${JSON.stringify(receiver.pageAtMs)} ms, ended at ${receiver.endAtMs} ms`);

    // res_fax's verdict on both sides, and what each side learnt of the other.
    assert.equal(sender.result.event?.payload['FAXSTATUS'], 'SUCCESS');
    assert.equal(receiver.result.event?.payload['FAXSTATUS'], 'SUCCESS');
    assert.deepEqual(
      { successful: sender.result.successful, direction: sender.result.direction, pages: sender.result.pages, identity: sender.result.identity, remoteIdentity: sender.result.remoteIdentity, document: sender.result.document },
      { successful: true, direction: 'send', pages: 1, identity: '+15550001', remoteIdentity: '+15550002', document: pdf },
    );
    assert.deepEqual(
      { successful: receiver.result.successful, direction: receiver.result.direction, pages: receiver.result.pages, identity: receiver.result.identity, remoteIdentity: receiver.result.remoteIdentity },
      { successful: true, direction: 'receive', pages: 1, identity: '+15550002', remoteIdentity: '+15550001' },
    );
    // The events: one page each, then finished.
    assert.deepEqual(sender.pages, [1]);
    assert.deepEqual(receiver.pages, [1]);
    assert.deepEqual(sender.states, ['stateChange:faxing', 'stateChange:finished', 'finished:finished']);
    assert.deepEqual(receiver.states, ['stateChange:faxing', 'stateChange:finished', 'finished:finished']);

    // The received file, read from the bind-mounted media directory (what Asterisk wrote).
    const file = fileURLToPath(receiver.result.document);
    assert.equal(path.dirname(file), path.join(rig.dir, 'faxes'));
    const bytes = readFileSync(file);
    assert.equal(bytes.length, statSync(file).size);
    assert.ok(bytes.length > 1000, `received ${bytes.length} bytes`);
    const tiff = readTiff(bytes);
    assert.equal(tiff.pages.length, 1);
    const [page] = tiff.pages;
    assert.equal(page?.width, 1728);
    assert.equal(page?.bitsPerSample, 1);
    assert.ok(page?.compression === 3 || page?.compression === 4, `compression ${page?.compression}`);
    assert.ok((page?.height ?? 0) > 2000, `height ${page?.height}`);
    assert.ok((page?.imageBytes ?? 0) > 500, `image bytes ${page?.imageBytes}`);
    t.diagnostic(`received TIFF: ${bytes.length} bytes, ${JSON.stringify(page)}`);
    // libtiff's own reading of it, when the machine has tiffinfo.
    const info = spawnSync('tiffinfo', ['-D', file], { encoding: 'utf8' });
    if (info.error) t.diagnostic(`tiffinfo not run: ${info.error.message}`);
    else {
      assert.equal(info.status, 0, info.stderr);
      assert.match(info.stdout, /Image Width: 1728/);
      assert.doesNotMatch(info.stderr, /error/i);
      t.diagnostic(`tiffinfo: ${info.stdout.split('\n').filter((l) => /Image Width|Resolution|Compression|Page Number|Software/.test(l)).map((l) => l.trim()).join('; ')}`);
    }
  });

  it('a two-page PDF: fax.page 1 while the fax runs (polled over AMI), then 2; the received TIFF has both pages', { skip: gsMissing }, async (t) => {
    writeFileSync(path.join(work, 'two.ps'), PAGE_PS + PAGE_PS.replace('%!PS\n', '').replace('test page', 'page two'));
    const pdf = path.join(work, 'two.pdf');
    const made = spawnSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pdfwrite', `-sOutputFile=${pdf}`, path.join(work, 'two.ps')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const { sender, receiver } = await faxPair(
      rig,
      (call) => faxSide(call, (c) => c.faxSendAsync({ document: `file://${pdf}` })),
      (call) => faxSide(call, (c) => c.faxReceiveAsync()),
    );
    t.diagnostic(`sender: pages ${JSON.stringify(sender.pages)} at ${JSON.stringify(sender.pageAtMs)} ms, ended at ${sender.endAtMs} ms, ${JSON.stringify(sender.result.event?.payload)}`);
    t.diagnostic(`receiver: pages ${JSON.stringify(receiver.pages)} at ${JSON.stringify(receiver.pageAtMs)} ms, ended at ${receiver.endAtMs} ms, ${JSON.stringify(receiver.result.event?.payload)}`);
    assert.deepEqual([sender.result.successful, sender.result.pages, receiver.result.successful, receiver.result.pages], [true, 2, true, 2]);
    for (const side of [sender, receiver]) {
      assert.deepEqual(side.pages, [1, 2]);
      // Page 1 was reported while the fax ran (the poll), long before its end.
      assert.ok((side.pageAtMs[0] ?? Infinity) < side.endAtMs - 5000, `page 1 at ${side.pageAtMs[0]} ms, end at ${side.endAtMs} ms`);
    }
    const received = readTiff(readFileSync(fileURLToPath(receiver.result.document)));
    assert.equal(received.pages.length, 2);
    assert.deepEqual(received.pages.map((page) => page.width), [1728, 1728]);
  });

  it('faxSend of a TIFF fetched from an http URL (no extension: the bytes tell it is a TIFF), sent as is', async (t) => {
    const page = blankFaxPage(300);
    const server = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'image/tiff', 'content-length': page.length });
      response.end(page);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fax-document`;
      const { sender, receiver } = await faxPair(
        rig,
        (call) => faxSide(call, (c) => c.faxSendAsync({ document: url, identity: '12345' })),
        (call) => faxSide(call, (c) => c.faxReceiveAsync()),
      );
      t.diagnostic(`sender: ${JSON.stringify({ ...sender.result, event: sender.result.event?.payload })} pages at ${JSON.stringify(sender.pageAtMs)} ms, ended at ${sender.endAtMs} ms`);
      t.diagnostic(`receiver: ${JSON.stringify({ ...receiver.result, event: receiver.result.event?.payload })} ended at ${receiver.endAtMs} ms`);
      assert.deepEqual(
        { successful: sender.result.successful, pages: sender.result.pages, document: sender.result.document, status: sender.result.event?.payload['FAXSTATUS'] },
        { successful: true, pages: 1, document: url, status: 'SUCCESS' },
      );
      assert.deepEqual(
        { successful: receiver.result.successful, pages: receiver.result.pages, remoteIdentity: receiver.result.remoteIdentity, status: receiver.result.event?.payload['FAXSTATUS'] },
        { successful: true, pages: 1, remoteIdentity: '12345', status: 'SUCCESS' },
      );
      // The fetched TIFF went into the media directory unchanged (no conversion).
      const fetched = readdirSync(path.join(rig.dir, '.agikit-fetched')).map((name) => readFileSync(path.join(rig.dir, '.agikit-fetched', name)));
      assert.ok(fetched.some((bytes) => bytes.equals(page)));
      const received = readTiff(readFileSync(fileURLToPath(receiver.result.document)));
      t.diagnostic(`received TIFF: ${JSON.stringify(received.pages)}`);
      assert.equal(received.pages.length, 1);
      // Every row of the 300 sent arrived (standard resolution: 204×98 dpi).
      assert.deepEqual([received.pages[0]?.width, received.pages[0]?.height, received.pages[0]?.yResolution], [1728, 300, 98]);
    } finally {
      server.close();
    }
  });

  it('stop() of a running faxReceive ends it at once, the call comes back to AGI; the sender fails', async (t) => {
    // A blank G3 page written by hand (no ghostscript needed), outside the media directory.
    const blank = path.join(work, 'blank.tif');
    writeFileSync(blank, blankFaxPage(400));
    let stopAtMs = 0;
    let stopped: unknown;
    let channelState: string | undefined;
    const { sender, receiver } = await faxPair(
      rig,
      (call) => faxSide(call, (c) => c.faxSendAsync({ document: blank })),
      async (call) => {
        const start = Date.now();
        const side = await faxSide(call, async (c) => {
          const action = await c.faxReceiveAsync();
          // Let the fax get going (negotiation takes some seconds), then stop it.
          setTimeout(() => {
            stopAtMs = Date.now() - start;
            void action.stop().then((result) => (stopped = result));
          }, 6000);
          return action;
        });
        // Back on AGI: a new session answers.
        assert.equal(await within(call.reattached(), 10_000, 'the call to come back to AGI'), true);
        channelState = await call.requireAgi('test').getVariable('CHANNEL(state)');
        return side;
      },
    );
    t.diagnostic(`receiver: ${JSON.stringify({ ...receiver.result, event: receiver.result.event?.payload })} stop() at ${stopAtMs} ms, ended at ${receiver.endAtMs} ms, states ${JSON.stringify(receiver.states)}`);
    t.diagnostic(`sender: ${JSON.stringify({ ...sender.result, event: sender.result.event?.payload })} ended at ${sender.endAtMs} ms`);
    assert.deepEqual(stopped, { successful: true });
    assert.equal(channelState, 'Up');
    assert.equal(receiver.result.successful, false);
    assert.notEqual(receiver.result.event?.payload['FAXSTATUS'], 'SUCCESS');
    assert.ok(receiver.endAtMs - stopAtMs < 5000, `the receive ended ${receiver.endAtMs - stopAtMs} ms after stop()`);
    assert.equal(receiver.states.at(-1), 'finished:finished');
    assert.equal(sender.result.successful, false);
    assert.equal(sender.states.at(-1), 'error:error');
  });
});


describe('Relay fax without AMI (the AGI-only subset, live)', { skip }, () => {
  let rig: RelayRig;
  const work = mkdtempSync('/tmp/agikit-fax-doc-');

  before(async () => {
    rig = await RelayRig.start({ ami: false });
  });
  after(async () => {
    await rig?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('faxSend/faxReceive work over AGI alone (fax.page from FAXPAGES at the end); stop() throws RelayCapabilityError', async (t) => {
    const blank = path.join(work, 'blank.tif');
    writeFileSync(blank, blankFaxPage(200));
    let refused: unknown;
    const { sender, receiver } = await faxPair(
      rig,
      (call) =>
        faxSide(call, async (c) => {
          const action = await c.faxSendAsync({ document: blank, identity: '777' });
          refused = await action.stop().catch((error: unknown) => error);
          return action;
        }),
      (call) => faxSide(call, (c) => c.faxReceiveAsync()),
    );
    t.diagnostic(`sender: ${JSON.stringify({ ...sender.result, event: sender.result.event?.payload })} pages ${JSON.stringify(sender.pages)} at ${JSON.stringify(sender.pageAtMs)} ms, ended at ${sender.endAtMs} ms`);
    assert.ok(refused instanceof RelayCapabilityError && refused.capability === 'ami', String(refused));
    assert.deepEqual([sender.result.successful, sender.result.pages, receiver.result.successful, receiver.result.pages, receiver.result.remoteIdentity], [true, 1, true, 1, '777']);
    assert.deepEqual([sender.pages, receiver.pages], [[1], [1]]);
    assert.equal(readTiff(readFileSync(fileURLToPath(receiver.result.document))).pages[0]?.height, 200);
  });
});
