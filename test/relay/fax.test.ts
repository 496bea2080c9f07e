/**
 * Relay fax, the pure parts and the component over a fake AGI session: the TIFF reader, telling
 * documents apart, the parameter checks (bad input is a typed error and nothing is sent), res_fax's
 * variables (FAXSTATUS decides, not the EXEC nor FAXERROR), the page counter, and the events.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import { AgiHangupError } from '../../src/errors.js';
import { Call } from '../../src/relay/call.js';
import { RelayArgumentError, RelayCapabilityError } from '../../src/relay/errors.js';
import {
  checkFaxReceive,
  checkFaxSend,
  checkFaxTiff,
  documentType,
  FAX_RESULT_EXPRESSION,
  faxSucceeded,
  ghostscriptArguments,
  pagesDone,
  parseFaxVariables,
} from '../../src/relay/fax-options.js';
import { RelayRuntime } from '../../src/relay/runtime.js';
import { readTiff, TiffError } from '../../src/relay/tiff.js';
import { blankFaxPage, tiffFile } from '../support/fax-tiff.js';

const dir = mkdtempSync('/tmp/agikit-fax-unit-');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('readTiff', () => {
  it('reads a one-page G3 fax TIFF, little- and big-endian', () => {
    for (const bigEndian of [false, true]) {
      const page = blankFaxPage(50);
      const bytes = bigEndian ? tiffFile({ ...readBack(page), bigEndian: true }) : page;
      const info = readTiff(bytes);
      assert.equal(info.byteOrder, bigEndian ? 'big-endian' : 'little-endian');
      assert.equal(info.pages.length, 1);
      assert.deepEqual(
        { ...info.pages[0], imageBytes: undefined },
        { width: 1728, height: 50, bitsPerSample: 1, samplesPerPixel: 1, compression: 3, xResolution: null, yResolution: null, imageBytes: undefined },
      );
      assert.ok((info.pages[0]?.imageBytes ?? 0) > 0);
    }
  });

  for (const [what, bytes, message] of [
    ['not a TIFF', Buffer.from('%PDF-1.4 hello'), /not a TIFF/],
    ['a header only', Buffer.from([0x49, 0x49, 42, 0]), /outside the file/],
    ['a strip outside the file', blankFaxPage(10).subarray(0, 160), /outside the file/],
    ['an IFD chain that loops', loopingTiff(), /loops/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => readTiff(bytes), (error: unknown) => error instanceof TiffError && message.test(error.message));
    });
  }
});

describe('fax options', () => {
  it('tells a PDF and a TIFF by their first bytes', () => {
    assert.equal(documentType(Buffer.from('%PDF-1.7\n...')), 'pdf');
    assert.equal(documentType(Buffer.from('\n\n%PDF-1.4')), 'pdf');
    assert.equal(documentType(blankFaxPage(1)), 'tiff');
    assert.equal(documentType(Buffer.from('GIF89a')), null);
    assert.equal(documentType(Buffer.alloc(0)), null);
  });

  it('reads the document as an http(s) URL, a file:// URL or a path', () => {
    assert.deepEqual(checkFaxSend('faxSend', { document: 'https://example.com/a.pdf' }).source, { kind: 'url', url: 'https://example.com/a.pdf' });
    assert.deepEqual(checkFaxSend('faxSend', { document: 'file:///tmp/a%20b.pdf' }).source, { kind: 'file', path: '/tmp/a b.pdf' });
    assert.deepEqual(checkFaxSend('faxSend', { document: 'docs/a.tif', identity: '+15550001', header: 'ACME' }), {
      direction: 'send',
      document: 'docs/a.tif',
      source: { kind: 'file', path: 'docs/a.tif' },
      identity: '+15550001',
      header: 'ACME',
    });
    assert.equal(checkFaxSend('faxSend', { document: 'a.pdf', header: '' }).header, '');
    assert.deepEqual(checkFaxReceive('faxReceive'), { direction: 'receive', identity: undefined });
  });

  for (const [what, params, message] of [
    ['no document', {}, /document is required/],
    ['an empty document', { document: ' ' }, /document is required/],
    ['an ftp URL', { document: 'ftp://example.com/a.pdf' }, /http\(s\):\/\/ or file:\/\//],
    ['a file URL with a host', { document: 'file://host/a.pdf' }, /not a usable file:\/\/ URL/],
    ['an identity of 21 characters', { document: 'a.pdf', identity: '1'.repeat(21) }, /identity must be printable ASCII text of at most 20/],
    ['a header with a newline', { document: 'a.pdf', header: 'a\nb' }, /header must be/],
    ['a header with a |', { document: 'a.pdf', header: 'a|b' }, /header must be/],
    ['a header of 51 characters', { document: 'a.pdf', header: 'h'.repeat(51) }, /at most 50/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => checkFaxSend('faxSend', params as never), (error: unknown) => error instanceof RelayArgumentError && message.test(error.message));
    });
  }

  it('takes a bilevel TIFF of a T.4 width; refuses grey pages and odd widths', () => {
    checkFaxTiff('faxSend', readTiff(blankFaxPage(5)), 'the TIFF');
    const grey = readTiff(tiffFile({ width: 1728, height: 2, compression: 1, bitsPerSample: 8, data: Buffer.alloc(3456) }));
    assert.throws(() => checkFaxTiff('faxSend', grey, 'the TIFF'), /page 1 is not black and white/);
    const narrow = readTiff(tiffFile({ width: 1000, height: 2, compression: 1, data: Buffer.alloc(250) }));
    assert.throws(() => checkFaxTiff('faxSend', narrow, 'the TIFF'), /page 1 is 1000 pixels wide/);
  });

  it('converts a PDF with ghostscript to TIFF-F: G3, 204×196 dpi, 1728 pixels wide', () => {
    const args = ghostscriptArguments('/in.pdf', '/out.tif');
    assert.ok(args.includes('-sDEVICE=tiffg3') && args.includes('-r204x196') && args.includes('-g1728x2156') && args.includes('-dSAFER'));
    assert.deepEqual(args.slice(-2), ['-sOutputFile=/out.tif', '/in.pdf']);
  });

  it("reads res_fax's variables; FAXSTATUS alone decides (a sender hung up on after the last page succeeded)", () => {
    assert.equal(FAX_RESULT_EXPRESSION, '${FAXSTATUS}|${FAXPAGES}|${FAXERROR}|${FAXBITRATE}|${FAXRESOLUTION}|${LOCALSTATIONID}|${REMOTESTATIONID}');
    const sent = parseFaxVariables('SUCCESS|1|HANGUP|14400|8031x7700|+15550001|+1|555');
    assert.deepEqual(sent, { FAXSTATUS: 'SUCCESS', FAXPAGES: '1', FAXERROR: 'HANGUP', FAXBITRATE: '14400', FAXRESOLUTION: '8031x7700', LOCALSTATIONID: '+15550001', REMOTESTATIONID: '+1|555' });
    assert.equal(faxSucceeded(sent), true);
    assert.equal(faxSucceeded(parseFaxVariables('FAILED|0|INIT_ERROR||||')), false);
    assert.equal(faxSucceeded(parseFaxVariables('')), false);
  });

  it('counts the pages done from an AMI FAXSession reply', () => {
    const reply = (fields: Record<string, string>) => ({ get: (name: string) => fields[name] });
    assert.equal(pagesDone(reply({ PageNumber: '1', PagesTransmitted: '0' })), 0);
    assert.equal(pagesDone(reply({ PageNumber: '2', PagesTransmitted: '0' })), 1);
    assert.equal(pagesDone(reply({ PageNumber: '2', PagesReceived: '2' })), 2);
    assert.equal(pagesDone(reply({ State: 'Active' })), null);
  });
});

/** A call over a fake AGI session whose res_fax variables read `variables`; `exec` does `execDoes`. */
function fakeCall(options: { variables?: string; execDoes?: () => Promise<number>; media?: boolean } = {}) {
  const commands: string[] = [];
  const runtime = new RelayRuntime(options.media === false ? {} : { media: { directory: { local: path.join(dir, 'media'), asterisk: '/ast-media' } } });
  const call = new Call(runtime, { id: 'u1', context: 'c', fromNumber: '', toNumber: '', channel: 'Local/x;1' });
  const agi = {
    env: { channel: 'Local/x;1' },
    closed: false,
    onHangup: () => undefined,
    setVariable: async (name: string, value: string) => void commands.push(`SET ${name}=${value}`),
    exec: async (application: string, ...args: unknown[]) => {
      commands.push(`EXEC ${application} ${String(args[0])}`);
      return options.execDoes ? options.execDoes() : 0;
    },
    getFullVariable: async (expression: string) => {
      commands.push(`GET ${expression === FAX_RESULT_EXPRESSION ? 'fax result' : expression}`);
      return options.variables ?? 'SUCCESS|1||14400|8031x7700|+15550001|+15550002';
    },
  } as unknown as Agi;
  call.attach(agi);
  call.advance('answered');
  const events: string[] = [];
  call.on('fax.stateChange', (action) => events.push(`stateChange:${action.state}`));
  call.on('fax.page', (_action, pages) => events.push(`page:${pages}`));
  call.on('fax.finished', () => events.push('finished'));
  call.on('fax.error', () => events.push('error'));
  return { call, commands, events };
}

describe('faxSend / faxReceive over a fake AGI session', () => {
  const tiff = path.join(dir, 'page.tif');
  writeFileSync(tiff, blankFaxPage(20));

  it('faxSend of a TIFF: copied into the media directory, FAXOPTs set, SendFAX, the result from FAXSTATUS', async () => {
    const { call, commands, events } = fakeCall();
    const result = await call.faxSend({ document: tiff, identity: '+15550001', header: 'ACME' });
    assert.equal(commands.length, 4);
    assert.deepEqual(commands.slice(0, 2), ['SET FAXOPT(localstationid)=+15550001', 'SET FAXOPT(headerinfo)=ACME']);
    assert.match(commands[2] ?? '', /^EXEC SendFAX \/ast-media\/faxes\/[0-9a-f]{64}\.tif$/);
    assert.equal(commands[3], 'GET fax result');
    assert.deepEqual({ ...result, event: undefined }, { successful: true, event: undefined, direction: 'send', identity: '+15550001', remoteIdentity: '+15550002', document: tiff, pages: 1 });
    assert.deepEqual(events, ['stateChange:faxing', 'page:1', 'stateChange:finished', 'finished']);
  });

  it('a SendFAX cut short by the hangup that follows the last page is still a fax sent (FAXSTATUS SUCCESS, FAXERROR HANGUP)', async () => {
    const { call, events } = fakeCall({ variables: 'SUCCESS|1|HANGUP|14400|8031x7700||+15550002', execDoes: () => Promise.reject(new AgiHangupError('hangup-line', 'EXEC')) });
    const result = await call.faxSend({ document: tiff });
    assert.equal(result.successful, true);
    assert.equal(result.pages, 1);
    assert.equal(events.at(-1), 'finished');
  });

  it('a TIFF already in the media directory is sent from there', async () => {
    mkdirSync(path.join(dir, 'media', 'docs'), { recursive: true });
    writeFileSync(path.join(dir, 'media', 'docs', 'in.tif'), blankFaxPage(3));
    const { call, commands } = fakeCall();
    await call.faxSend({ document: 'docs/in.tif' });
    assert.equal(commands[0], 'EXEC SendFAX /ast-media/docs/in.tif');
  });

  it('a failed fax: unsuccessful, fax.error', async () => {
    const { call, events } = fakeCall({ variables: 'FAILED|0|NEGOTIATION||||' });
    const result = await call.faxReceive();
    assert.deepEqual({ successful: result.successful, pages: result.pages, document: result.document }, { successful: false, pages: 0, document: '' });
    assert.deepEqual(events, ['stateChange:faxing', 'stateChange:error', 'error']);
  });

  it('faxReceive: ReceiveFAX into faxes/<controlId>.tif; the document is its file:// URL', async () => {
    const { call, commands } = fakeCall();
    const action = await call.faxReceiveAsync({ identity: '+15550002' });
    const result = await action.done;
    assert.deepEqual(commands.slice(0, 2), ['SET FAXOPT(localstationid)=+15550002', `EXEC ReceiveFAX /ast-media/faxes/${action.controlId}.tif`]);
    assert.equal(result.document, `file://${dir}/media/faxes/${action.controlId}.tif`);
  });

  for (const [what, params, error] of [
    ['no document', {}, RelayArgumentError],
    ['a document that does not exist', { document: path.join(dir, 'missing.pdf') }, RelayArgumentError],
    ['a text file', { document: 'text.txt' }, RelayArgumentError],
    ['a grey TIFF', { document: 'grey.tif' }, RelayArgumentError],
  ] as const) {
    it(`faxSend with ${what}: a typed error, nothing sent`, async () => {
      mkdirSync(path.join(dir, 'media'), { recursive: true });
      writeFileSync(path.join(dir, 'media', 'text.txt'), 'hello, not a fax');
      writeFileSync(path.join(dir, 'media', 'grey.tif'), tiffFile({ width: 1728, height: 1, compression: 1, bitsPerSample: 8, data: Buffer.alloc(1728) }));
      const { call, commands, events } = fakeCall();
      await assert.rejects(call.faxSend(params as never), error);
      assert.deepEqual(commands, []);
      assert.deepEqual(events, []);
    });
  }

  it('faxSend of a URL nothing answers at: RelayArgumentError, nothing sent', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const { call, commands } = fakeCall();
    await assert.rejects(call.faxSend({ document: `http://127.0.0.1:${port}/a.pdf` }), (e: unknown) => e instanceof RelayArgumentError && /fetching .* failed/.test(e.message));
    assert.deepEqual(commands, []);
  });

  it('without a media directory: RelayCapabilityError, nothing sent', async () => {
    const { call, commands } = fakeCall({ media: false });
    await assert.rejects(call.faxSend({ document: tiff }), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'media-directory');
    await assert.rejects(call.faxReceive(), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'media-directory');
    assert.deepEqual(commands, []);
  });

  it('stop() and signal without AMI: RelayCapabilityError (AGI cannot interrupt EXEC)', async () => {
    const { call } = fakeCall({ execDoes: () => new Promise((resolve) => setTimeout(() => resolve(0), 50)) });
    await assert.rejects(call.faxReceive({}, { signal: new AbortController().signal }), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'ami');
    const action = await call.faxReceiveAsync();
    await assert.rejects(action.stop(), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'ami');
    await action.done;
  });
});

/** The fields of a one-page TIFF written by {@link tiffFile}, to write it again. */
function readBack(bytes: Buffer): { width: number; height: number; compression: number; data: Buffer } {
  const page = readTiff(bytes).pages[0];
  if (!page) throw new Error('no page');
  return { width: page.width, height: page.height, compression: page.compression, data: bytes.subarray(bytes.length - page.imageBytes) };
}

/** A TIFF whose first IFD names itself as the next one. */
function loopingTiff(): Buffer {
  const bytes = Buffer.from(blankFaxPage(1));
  const entries = bytes.readUInt16LE(8);
  bytes.writeUInt32LE(8, 10 + entries * 12);
  return bytes;
}
