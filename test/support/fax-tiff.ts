/**
 * Fax TIFF files written by hand for the tests (no ghostscript needed): a blank page of CCITT G3
 * 1-D rows, and the TIFF container around any strip of data.
 *
 * Not a test file: it only exports helpers.
 */

/** One white 1728-pixel G3 1-D row: EOL (000000000001), white make-up 1728 (010011011), white terminating 0 (00110101). */
const WHITE_ROW_BITS = '000000000001' + '010011011' + '00110101';

/** A one-page fax TIFF: 1728 × `rows`, CCITT G3 1-D, every row white, closed by RTC (six EOLs). */
export function blankFaxPage(rows = 100, width = 1728): Buffer {
  let bits = WHITE_ROW_BITS.repeat(rows) + '000000000001'.repeat(6);
  while (bits.length % 8 !== 0) bits += '0';
  const data = Buffer.alloc(bits.length / 8);
  for (let i = 0; i < data.length; i++) data[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  return tiffFile({ width, height: rows, compression: 3, data });
}

/** What {@link tiffFile} writes. */
export interface TiffSpec {
  readonly width: number;
  readonly height: number;
  /** Tag 259 (3: CCITT G3). */
  readonly compression: number;
  readonly bitsPerSample?: number;
  readonly samplesPerPixel?: number;
  readonly data: Buffer;
  /** Big-endian (`MM`) instead of little-endian (`II`). */
  readonly bigEndian?: boolean;
}

/** A single-strip, single-page TIFF around `spec.data`. */
export function tiffFile(spec: TiffSpec): Buffer {
  const entries: Array<[tag: number, type: number, value: number]> = [
    [256, 4, spec.width],
    [257, 4, spec.height],
    [258, 3, spec.bitsPerSample ?? 1],
    [259, 3, spec.compression],
    [262, 3, 0],
    [266, 3, 1], // FillOrder: most significant bit first
    [273, 4, 0], // StripOffsets: the data's offset, written below
    [277, 3, spec.samplesPerPixel ?? 1],
    [278, 4, spec.height],
    [279, 4, spec.data.length],
    [292, 4, 0], // T4Options: 1-D, no fill bits
  ];
  const dataOffset = 8 + 2 + entries.length * 12 + 4;
  const out = Buffer.alloc(dataOffset + spec.data.length);
  const be = spec.bigEndian === true;
  const u16 = (value: number, at: number): void => void (be ? out.writeUInt16BE(value, at) : out.writeUInt16LE(value, at));
  const u32 = (value: number, at: number): void => void (be ? out.writeUInt32BE(value, at) : out.writeUInt32LE(value, at));
  out.write(be ? 'MM' : 'II', 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    u16(tag, at);
    u16(type, at + 2);
    u32(1, at + 4);
    if (type === 3) u16(value, at + 8);
    else u32(tag === 273 ? dataOffset : value, at + 8);
  });
  u32(0, 10 + entries.length * 12);
  spec.data.copy(out, dataOffset);
  return out;
}
