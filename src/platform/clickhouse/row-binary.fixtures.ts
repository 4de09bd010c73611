/**
 * Reads RowBinary back, for tests of what RowBinaryWriter wrote: an independent decoder of
 * the same format (LEB128 lengths, little-endian integers), written from the format's
 * description rather than from the writer.
 */
export class RowBinaryReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  string(): string {
    let length = 0;
    let shift = 0;
    for (;;) {
      const b = this.bytes[this.offset++];
      if (b === undefined) throw new RangeError('RowBinary ends inside a length');
      length += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    if (this.offset + length > this.bytes.length) throw new RangeError('RowBinary ends inside a string');
    const s = this.bytes.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }

  uint8(): number {
    return this.bytes.readUInt8(this.offset++);
  }

  uint32(): number {
    const v = this.bytes.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  uint64(): number {
    const v = this.bytes.readBigUInt64LE(this.offset);
    this.offset += 8;
    return Number(v);
  }
}
