/**
 * A small TIFF reader: the pages (IFDs) of a TIFF file and what a fax needs to know of each (size,
 * bit depth, compression, resolution), with the strips checked to lie inside the file. Pure: it
 * reads a buffer. Used to check a document before `faxSend` and a received fax after `faxReceive`.
 *
 * @module
 */

/** A file that is not a readable TIFF. */
export class TiffError extends Error {
  override name = 'TiffError';
}

/** TIFF compression schemes a fax file may use (tag 259), by number. */
export const TIFF_COMPRESSION: Readonly<Record<number, string>> = {
  1: 'none',
  2: 'CCITT RLE',
  3: 'CCITT T.4 (G3)',
  4: 'CCITT T.6 (G4)',
  5: 'LZW',
  7: 'JPEG',
  8: 'Deflate',
  32773: 'PackBits',
};

/** One page (image file directory) of a TIFF. */
export interface TiffPage {
  /** Pixels per row (tag 256). */
  readonly width: number;
  /** Rows (tag 257). */
  readonly height: number;
  /** Bits per sample (tag 258; 1 when absent, as TIFF says). */
  readonly bitsPerSample: number;
  /** Samples per pixel (tag 277; 1 when absent). */
  readonly samplesPerPixel: number;
  /** Compression (tag 259; 1 = none when absent); see {@link TIFF_COMPRESSION}. */
  readonly compression: number;
  /** Horizontal resolution (tag 282), or `null`. */
  readonly xResolution: number | null;
  /** Vertical resolution (tag 283), or `null`. */
  readonly yResolution: number | null;
  /** Bytes of image data (the sum of tag 279). */
  readonly imageBytes: number;
}

/** What {@link readTiff} found. */
export interface TiffInfo {
  readonly byteOrder: 'little-endian' | 'big-endian';
  readonly pages: readonly TiffPage[];
}

/** More pages than any fax has: a guard against IFD chains that loop. */
const MAX_PAGES = 10_000;

/** Bytes of one value of each TIFF field type (1 BYTE ... 12 DOUBLE). */
const TYPE_SIZE: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };

/** Whether `bytes` start like a TIFF (`II*\0` or `MM\0*`). */
export function looksLikeTiff(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) || (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42));
}

/**
 * Reads the pages of a TIFF file.
 *
 * @throws TiffError when it is not a TIFF, an offset points outside the file, a page lacks its size
 *   or its strips, or the IFD chain loops
 */
export function readTiff(bytes: Uint8Array): TiffInfo {
  if (!looksLikeTiff(bytes)) throw new TiffError('not a TIFF file (no II*/MM* header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  const u16 = (at: number): number => {
    if (at + 2 > bytes.length) throw new TiffError(`offset ${at} is outside the file (${bytes.length} bytes)`);
    return view.getUint16(at, little);
  };
  const u32 = (at: number): number => {
    if (at + 4 > bytes.length) throw new TiffError(`offset ${at} is outside the file (${bytes.length} bytes)`);
    return view.getUint32(at, little);
  };
  /** The values of the field whose 12-byte entry is at `entry`. */
  const values = (entry: number): number[] => {
    const type = u16(entry + 2);
    const count = u32(entry + 4);
    const size = TYPE_SIZE[type];
    if (size === undefined) return [];
    const at = size * count <= 4 ? entry + 8 : u32(entry + 8);
    if (at + size * count > bytes.length) throw new TiffError(`tag ${u16(entry)} points outside the file`);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const p = at + i * size;
      if (type === 3) out.push(u16(p));
      else if (type === 4) out.push(u32(p));
      else if (type === 5) out.push(u32(p) / (u32(p + 4) || 1));
      else if (type === 1 || type === 7) out.push(bytes[p] ?? 0);
      else out.push(NaN); // signed and floating types: no fax tag uses them
    }
    return out;
  };

  const pages: TiffPage[] = [];
  const seen = new Set<number>();
  let ifd = u32(4);
  while (ifd !== 0) {
    if (seen.has(ifd) || pages.length >= MAX_PAGES) throw new TiffError('the chain of pages (IFDs) loops');
    seen.add(ifd);
    const entries = u16(ifd);
    const tags = new Map<number, number[]>();
    for (let i = 0; i < entries; i++) {
      const entry = ifd + 2 + i * 12;
      tags.set(u16(entry), values(entry));
    }
    pages.push(pageOf(tags, pages.length + 1, bytes.length));
    ifd = u32(ifd + 2 + entries * 12);
  }
  if (pages.length === 0) throw new TiffError('the file has no page');
  return { byteOrder: little ? 'little-endian' : 'big-endian', pages };
}

function pageOf(tags: ReadonlyMap<number, number[]>, number: number, fileSize: number): TiffPage {
  const first = (tag: number): number | undefined => tags.get(tag)?.[0];
  const width = first(256);
  const height = first(257);
  if (!width || !height) throw new TiffError(`page ${number} has no width or height`);
  const offsets = tags.get(273) ?? [];
  const counts = tags.get(279) ?? [];
  if (offsets.length === 0 || offsets.length !== counts.length) throw new TiffError(`page ${number} has no image strips (or their offsets and sizes disagree)`);
  let imageBytes = 0;
  offsets.forEach((offset, i) => {
    const count = counts[i] ?? 0;
    if (offset + count > fileSize) throw new TiffError(`page ${number}: strip ${i + 1} lies outside the file`);
    imageBytes += count;
  });
  return {
    width,
    height,
    bitsPerSample: first(258) ?? 1,
    samplesPerPixel: first(277) ?? 1,
    compression: first(259) ?? 1,
    xResolution: first(282) ?? null,
    yResolution: first(283) ?? null,
    imageBytes,
  };
}
