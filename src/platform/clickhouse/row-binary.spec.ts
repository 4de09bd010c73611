import fc from 'fast-check';
import { RowBinaryWriter } from './row-binary';
import { RowBinaryReader } from './row-binary.fixtures';

describe('RowBinaryWriter', () => {
  it('writes any well-formed string as its LEB128 byte length and UTF-8 bytes', () => {
    // Lengths around the one- and two-byte LEB128 boundaries (127/128 and 16383/16384 bytes),
    // ASCII and multibyte (where the UTF-16 length and the byte length differ).
    const unit = fc.constantFrom('a', 'é', '€', '😀', '\t', '\n', '\\', '\0', "'");
    const text = fc.oneof(
      fc.string({ unit, maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 300 }).filter((s) => s.isWellFormed()),
      fc.integer({ min: 16_370, max: 16_400 }).map((n) => 'x'.repeat(n)),
      fc.integer({ min: 120, max: 130 }).map((n) => 'é'.repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 8 }), (strings) => {
        const w = new RowBinaryWriter(16); // small on purpose: the buffer must grow
        for (const s of strings) w.string(s);
        const bytes = w.finish();
        const r = new RowBinaryReader(bytes);
        expect(strings.map(() => r.string())).toEqual(strings);
        expect(r.done).toBe(true);
        const lengthBytes = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : 3);
        expect(bytes.length).toBe(
          strings.reduce((t, s) => t + lengthBytes(Buffer.byteLength(s)) + Buffer.byteLength(s), 0),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('writes integers little-endian at their widths, up to their limits', () => {
    const w = new RowBinaryWriter();
    w.uint8(0);
    w.uint8(255);
    w.uint32(0xffffffff);
    w.uint32(1);
    w.uint64(Number.MAX_SAFE_INTEGER);
    w.uint64(2 ** 32);
    w.uint64(0x1_0000_0001);
    w.dateTime(1_800_000_000);
    const bytes = w.finish();
    expect(bytes.toString('hex')).toBe(
      [
        '00',
        'ff',
        'ffffffff',
        '01000000',
        'ffffffffffff1f00',
        '0000000001000000',
        '0100000001000000',
        '00d2496b', // 1,800,000,000 = 0x6B49D200
      ].join(''),
    );
    const r = new RowBinaryReader(bytes);
    expect([
      r.uint8(),
      r.uint8(),
      r.uint32(),
      r.uint32(),
      r.uint64(),
      r.uint64(),
      r.uint64(),
      r.uint32(),
    ]).toEqual([0, 255, 0xffffffff, 1, Number.MAX_SAFE_INTEGER, 2 ** 32, 0x1_0000_0001, 1_800_000_000]);
  });

  it('refuses a value its column cannot hold rather than wrapping it', () => {
    const w = new RowBinaryWriter();
    expect(() => w.uint8(256)).toThrow(/UInt8/);
    expect(() => w.uint8(-1)).toThrow(/UInt8/);
    expect(() => w.uint8(1.5)).toThrow(/UInt8/);
    expect(() => w.uint32(2 ** 32)).toThrow(/UInt32/);
    expect(() => w.uint64(-1)).toThrow(/UInt64/);
    expect(() => w.uint64(2 ** 53)).toThrow(/UInt64/);
    expect(() => w.uint64(0.5)).toThrow(/UInt64/);
    expect(() => w.string(1 as unknown as string)).toThrow(/string/);
    expect(w.finish().length).toBe(0);
  });
});
