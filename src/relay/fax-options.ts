/**
 * `faxSend()` / `faxReceive()`: their parameters checked, and the pure decisions around res_fax:
 * what kind of document a file is, whether a TIFF is one a fax can carry, the ghostscript command
 * that makes one from a PDF, reading res_fax's result variables, and the page counter of an AMI
 * `FAXSession` reply.
 *
 * @module
 */

import { fileURLToPath } from 'node:url';
import { RelayArgumentError } from './errors.js';
import { looksLikeTiff, type TiffInfo } from './tiff.js';

/** Parameters of `faxSend()` (the seed's). */
export interface FaxSendParams {
  /**
   * The document: an `http(s)://` URL (fetched into the media directory), a `file://` URL or a path
   * on agikit's machine (relative paths are taken in the media directory). A PDF (converted to a
   * fax TIFF with ghostscript) or a fax TIFF (bilevel, a T.4 page width such as 1728 pixels).
   */
  document: string;
  /** The station id sent to the far end (T.30 TSI, up to 20 characters). Default: none (Asterisk's). */
  identity?: string;
  /** The header line printed at the top of each page (up to 50 characters); `''` for none. Default: none. */
  header?: string;
}

/** Parameters of `faxReceive()`: the seed has none; agikit adds the station id it answers with. */
export interface FaxReceiveParams {
  /** The station id sent to the far end (T.30 CSI, up to 20 characters). Default: none. */
  identity?: string;
}

/** Where a document to send comes from. */
export type FaxSource = { readonly kind: 'url'; readonly url: string } | { readonly kind: 'file'; readonly path: string };

/** A checked `faxSend()`. */
export interface FaxSendPlan {
  readonly direction: 'send';
  readonly document: string;
  readonly source: FaxSource;
  readonly identity: string | undefined;
  readonly header: string | undefined;
}

/** A checked `faxReceive()`. */
export interface FaxReceivePlan {
  readonly direction: 'receive';
  readonly identity: string | undefined;
}

export type FaxPlan = FaxSendPlan | FaxReceivePlan;

/** T.30 station ids are 20 characters. */
export const MAX_IDENTITY_LENGTH = 20;
/** spandsp's page header holds 50 characters. */
export const MAX_HEADER_LENGTH = 50;

/** Printable ASCII: what a T.30 id and a page header can carry (and nothing AGI or dialplan quoting must escape). */
const PRINTABLE = /^[\x20-\x7e]*$/;

function checkText(method: string, name: string, value: unknown, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !PRINTABLE.test(value) || value.length > max || value.includes('|')) {
    throw new RelayArgumentError(`${method}: ${name} must be printable ASCII text of at most ${max} characters without '|', not ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks `faxSend()`'s parameters (nothing is fetched or read yet).
 *
 * @throws RelayArgumentError for a missing or empty document, a URL scheme other than http(s) and
 *   file, or a bad identity or header
 */
export function checkFaxSend(method: string, params: FaxSendParams): FaxSendPlan {
  if (params === null || typeof params !== 'object') throw new RelayArgumentError(`${method}: parameters must be an object with a document, not ${JSON.stringify(params)}`);
  const { document } = params;
  if (typeof document !== 'string' || document.trim() === '') throw new RelayArgumentError(`${method}: document is required: a URL or a path of a PDF or TIFF file, not ${JSON.stringify(document)}`);
  let source: FaxSource;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(document)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') source = { kind: 'url', url: document };
  else if (scheme === 'file') source = { kind: 'file', path: filePath(method, document) };
  else if (scheme !== undefined) throw new RelayArgumentError(`${method}: document URLs must be http(s):// or file://, not ${JSON.stringify(document)}`);
  else source = { kind: 'file', path: document };
  return {
    direction: 'send',
    document,
    source,
    identity: checkText(method, 'identity', params.identity, MAX_IDENTITY_LENGTH),
    header: checkText(method, 'header', params.header, MAX_HEADER_LENGTH),
  };
}

function filePath(method: string, url: string): string {
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw new RelayArgumentError(`${method}: ${JSON.stringify(url)} is not a usable file:// URL: ${(error as Error).message}`);
  }
}

/** Checks `faxReceive()`'s parameters. @throws RelayArgumentError for a bad identity */
export function checkFaxReceive(method: string, params: FaxReceiveParams = {}): FaxReceivePlan {
  if (params === null || typeof params !== 'object') throw new RelayArgumentError(`${method}: parameters must be an object, not ${JSON.stringify(params)}`);
  return { direction: 'receive', identity: checkText(method, 'identity', params.identity, MAX_IDENTITY_LENGTH) };
}

/** The seed's payload of a fax action. */
export function faxPayload(plan: FaxPlan): Record<string, unknown> {
  if (plan.direction === 'receive') return { direction: 'receive', ...(plan.identity === undefined ? {} : { identity: plan.identity }) };
  return {
    direction: 'send',
    document: plan.document,
    ...(plan.identity === undefined ? {} : { identity: plan.identity }),
    ...(plan.header === undefined ? {} : { header_info: plan.header }),
  };
}

// -------------------------------------------------------------------------------------------------
// Documents

/** What a document file is, from its first bytes: `null` when neither a PDF nor a TIFF. */
export function documentType(bytes: Uint8Array): 'pdf' | 'tiff' | null {
  if (looksLikeTiff(bytes)) return 'tiff';
  // PDF readers accept the header anywhere in the first 1024 bytes.
  if (Buffer.from(bytes.subarray(0, 1024)).includes('%PDF-')) return 'pdf';
  return null;
}

/** Page widths (pixels) T.4 defines: A4, B4, A3 at 8, 16 dots/mm (and 300/600 dpi's close kin). */
export const FAX_PAGE_WIDTHS: readonly number[] = [1728, 2048, 2432, 3456, 4096, 4864];

/**
 * Checks that a TIFF can be sent as a fax: every page bilevel (1 bit, 1 sample) and of a T.4 width.
 *
 * @throws RelayArgumentError naming the first page that cannot
 */
export function checkFaxTiff(method: string, info: TiffInfo, what: string): void {
  info.pages.forEach((page, i) => {
    if (page.bitsPerSample !== 1 || page.samplesPerPixel !== 1) {
      throw new RelayArgumentError(`${method}: ${what} page ${i + 1} is not black and white (${page.samplesPerPixel} × ${page.bitsPerSample}-bit samples); send a PDF, or convert it to a fax TIFF (ghostscript -sDEVICE=tiffg3)`);
    }
    if (!FAX_PAGE_WIDTHS.includes(page.width)) {
      throw new RelayArgumentError(`${method}: ${what} page ${i + 1} is ${page.width} pixels wide; a fax page is ${FAX_PAGE_WIDTHS.join(', ')} pixels wide (1728 for A4/Letter)`);
    }
  });
}

/**
 * Ghostscript's arguments that render `pdf` into a TIFF-F file `tiff` (CCITT G3, 204×196 dpi, 1728
 * pixels wide: fax fine resolution on A4/Letter width), each page scaled to fit a Letter page.
 */
export function ghostscriptArguments(pdf: string, tiff: string): string[] {
  return ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=tiffg3', '-r204x196', '-g1728x2156', '-dFIXEDMEDIA', '-dPDFFitPage', `-sOutputFile=${tiff}`, pdf];
}

// -------------------------------------------------------------------------------------------------
// Results

/** res_fax's result variables, in the order {@link FAX_RESULT_EXPRESSION} reads them. */
export const FAX_RESULT_VARIABLES = ['FAXSTATUS', 'FAXPAGES', 'FAXERROR', 'FAXBITRATE', 'FAXRESOLUTION', 'LOCALSTATIONID', 'REMOTESTATIONID'] as const;

/** One `GET FULL VARIABLE` expression that reads them all (the remote id last: it may hold a `|`). */
export const FAX_RESULT_EXPRESSION = FAX_RESULT_VARIABLES.map((name) => `\${${name}}`).join('|');

/** res_fax's result variables, as read (`''` when unset). */
export type FaxVariables = Readonly<Record<(typeof FAX_RESULT_VARIABLES)[number], string>>;

/** Reads {@link FAX_RESULT_EXPRESSION}'s value. */
export function parseFaxVariables(value: string): FaxVariables {
  const parts = value.split('|');
  const head = parts.slice(0, FAX_RESULT_VARIABLES.length - 1);
  const tail = parts.slice(FAX_RESULT_VARIABLES.length - 1).join('|');
  const out: Record<string, string> = {};
  FAX_RESULT_VARIABLES.forEach((name, i) => {
    out[name] = (i < head.length ? head[i] : i === FAX_RESULT_VARIABLES.length - 1 ? tail : '') ?? '';
  });
  return out as FaxVariables;
}

/** The same from separately read values (AMI `Getvar`s). */
export function faxVariablesOf(read: (name: (typeof FAX_RESULT_VARIABLES)[number]) => string): FaxVariables {
  const out: Record<string, string> = {};
  for (const name of FAX_RESULT_VARIABLES) out[name] = read(name);
  return out as FaxVariables;
}

/**
 * Whether res_fax says the fax went through: `FAXSTATUS` `SUCCESS`, nothing else. Not the `EXEC`'s
 * return nor `FAXERROR`: a sender whose far end hangs up right after the last page gets `-1` and
 * `FAXERROR=HANGUP` with `FAXSTATUS=SUCCESS` (relay-probes.md §1).
 */
export function faxSucceeded(variables: FaxVariables): boolean {
  return variables.FAXSTATUS === 'SUCCESS';
}

/** `FAXPAGES` as a number (`0` when unset or not a number). */
export function faxPages(variables: FaxVariables): number {
  const pages = Number(variables.FAXPAGES);
  return Number.isInteger(pages) && pages >= 0 ? pages : 0;
}

/**
 * The pages done so far, from an AMI `FAXSession` reply (spandsp's fields): `PageNumber` is the
 * page in progress (it moves from 1 to 2 as page 1 completes), `PagesTransmitted` /
 * `PagesReceived` count finished ones. `null` when the reply has none of them.
 */
export function pagesDone(fields: { get(name: string): string | undefined }): number | null {
  const numbers = [Number(fields.get('PageNumber')) - 1, Number(fields.get('PagesTransmitted')), Number(fields.get('PagesReceived'))].filter((n) => Number.isInteger(n) && n >= 0);
  return numbers.length === 0 ? null : Math.max(...numbers);
}
