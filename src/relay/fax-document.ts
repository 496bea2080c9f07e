/**
 * The document `faxSend()` sends, made ready where Asterisk can read it: fetched (an `http(s)` URL)
 * or read (a path), told apart by its first bytes, a PDF converted to a fax TIFF with ghostscript
 * (`gs`), a TIFF checked; both end up in `<media directory>/faxes/` (named by content hash, so the
 * same document is stored once) unless the TIFF already lies in the media directory.
 *
 * @module
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PathMapping } from '../media/paths.js';
import { RelayArgumentError, RelayCapabilityError, RelayError } from './errors.js';
import { checkFaxTiff, documentType, ghostscriptArguments, type FaxSendPlan } from './fax-options.js';
import { fetchToMediaDirectory } from './media-list.js';
import { commandAvailable, runCommand } from './recording-files.js';
import { readTiff, TiffError, type TiffInfo } from './tiff.js';

/** Subdirectory of the media directory holding fax documents: those sent, and those received. */
export const FAXES_SUBDIRECTORY = 'faxes';

/** The media types a fetched document may come with (the content decides; this only names the file). */
const DOCUMENT_TYPES: Readonly<Record<string, string>> = { 'application/pdf': 'pdf', 'image/tiff': 'tif', 'application/octet-stream': 'bin' };

/** A document ready to send. */
export interface FaxDocument {
  /** The TIFF on agikit's side. */
  readonly local: string;
  /** The same for Asterisk (`SendFAX`'s argument). */
  readonly asterisk: string;
  /** What the TIFF holds. */
  readonly tiff: TiffInfo;
  /** What the document was. */
  readonly type: 'pdf' | 'tiff';
}

/** Whether a `gs` (ghostscript) command runs on this machine (checked once per process). */
export function ghostscriptAvailable(): Promise<boolean> {
  return commandAvailable('gs', ['--version']);
}

/**
 * Makes `plan.document` ready to send (see the module comment).
 *
 * @throws RelayArgumentError when the document cannot be fetched or read, is neither a PDF nor a
 *   TIFF, is a TIFF a fax cannot carry, or ghostscript cannot render it
 * @throws RelayCapabilityError for a PDF when `gs` is missing
 */
export async function prepareFaxDocument(method: string, plan: FaxSendPlan, mapping: PathMapping, signal?: AbortSignal): Promise<FaxDocument> {
  const local = plan.source.kind === 'url' ? await fetchDocument(method, plan.source.url, mapping, signal) : mapping.resolve(plan.source.path).local ?? path.resolve(plan.source.path);
  let bytes: Buffer;
  try {
    bytes = await readFile(local);
  } catch (error) {
    throw new RelayArgumentError(`${method}: cannot read the document ${plan.document}: ${(error as Error).message}`);
  }
  const type = documentType(bytes);
  if (type === null) throw new RelayArgumentError(`${method}: the document ${plan.document} is neither a PDF nor a TIFF (its first bytes: ${JSON.stringify(bytes.subarray(0, 8).toString('latin1'))})`);
  const directory = path.join(mapping.localRoot, FAXES_SUBDIRECTORY);
  const hash = createHash('sha256').update(bytes).digest('hex');
  let tiffFile: string;
  if (type === 'pdf') {
    if (!(await ghostscriptAvailable())) throw new RelayCapabilityError('pdf-converter', method, `to convert the PDF ${plan.document} to a fax TIFF`);
    tiffFile = path.join(directory, `${hash}.tif`);
    if (!(await readFile(tiffFile).catch(() => undefined))) {
      await mkdir(directory, { recursive: true });
      const temp = `${tiffFile}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await runCommand('gs', ghostscriptArguments(local, temp));
        await rename(temp, tiffFile);
      } catch (error) {
        await rm(temp, { force: true });
        throw new RelayArgumentError(`${method}: ghostscript could not convert ${plan.document}: ${(error as Error).message}`);
      }
    }
  } else if (mapping.toAsterisk(local) !== undefined) {
    tiffFile = local;
  } else {
    tiffFile = path.join(directory, `${hash}.tif`);
    await mkdir(directory, { recursive: true });
    await writeFile(tiffFile, bytes);
  }
  const tiff = readTiffFile(method, tiffFile === local ? bytes : await readFile(tiffFile), plan.document);
  checkFaxTiff(method, tiff, type === 'pdf' ? `the PDF ${plan.document} converted,` : `the TIFF ${plan.document}:`);
  const asterisk = mapping.toAsterisk(tiffFile);
  if (asterisk === undefined) throw new RelayError(`${method}: ${tiffFile} lies outside the media directory`);
  return { local: tiffFile, asterisk, tiff, type };
}

/** Fetches a document into the media directory; a network failure is the method's {@link RelayArgumentError}. */
async function fetchDocument(method: string, url: string, mapping: PathMapping, signal: AbortSignal | undefined): Promise<string> {
  try {
    return await fetchToMediaDirectory(url, mapping, signal, method, DOCUMENT_TYPES);
  } catch (error) {
    if (error instanceof RelayError || signal?.aborted) throw error;
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new RelayArgumentError(`${method}: fetching ${url} failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  }
}

/** {@link readTiff}, its error as the method's. */
function readTiffFile(method: string, bytes: Uint8Array, name: string): TiffInfo {
  try {
    return readTiff(bytes);
  } catch (error) {
    if (error instanceof TiffError) throw new RelayArgumentError(`${method}: ${name} is not a readable TIFF: ${error.message}`);
    throw error;
  }
}
