import { mkdtemp, readdir, readFile, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, decodeSegment, encodeRecord, Spool, SpoolFullError } from './spool';

const options = (warnings: string[] = []) => ({
  maxBytes: 1 << 20,
  segmentBytes: 4096,
  warn: (m: string) => warnings.push(m),
});
const payloads = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ id: `e${from + i}`, pad: 'x'.repeat(50) }));

describe('spool', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('keeps unacknowledged records across a reopen, in order, and drops acknowledged segments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-'));
    const s = await Spool.open(dir, options());
    await s.append(payloads(200));
    expect(s.peek(10)).toHaveLength(0); // not durable yet
    await s.sync();
    expect(s.peek(1000)).toHaveLength(200);
    await s.acknowledge(150);
    await s.close();
    const segmentsAfterAck = (await readdir(dir)).filter((f) => f.startsWith('segment-'));
    expect(segmentsAfterAck.length).toBeLessThan(5); // 200 × ~80 B in 4 KiB segments, most dropped
    const again = await Spool.open(dir, options());
    expect(again.peek(1000).map((r) => JSON.parse(r.payload).id)).toEqual(
      payloads(50, 150).map((p) => JSON.parse(p).id),
    );
    await again.close();
  });

  it('detects a record cut in half at the end, reports it, and delivers the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-'));
    const s = await Spool.open(dir, { ...options(), segmentBytes: 1 << 20 });
    await s.append(payloads(10));
    await s.sync();
    await s.close();
    const [segment] = (await readdir(dir)).filter((f) => f.startsWith('segment-'));
    const size = (await stat(join(dir, segment))).size;
    await truncate(join(dir, segment), size - 30); // power cut in the middle of the last record
    const warnings: string[] = [];
    const reopened = await Spool.open(dir, { ...options(warnings), segmentBytes: 1 << 20 });
    expect(reopened.peek(100).map((r) => JSON.parse(r.payload).id)).toEqual(
      payloads(9).map((p) => JSON.parse(p).id),
    );
    expect(warnings.join('\n')).toMatch(/damaged byte/);
    // The torn tail is cut away, so new records follow the good ones.
    await reopened.append(payloads(1, 100));
    await reopened.sync();
    await reopened.close();
    const last = await Spool.open(dir, { ...options(), segmentBytes: 1 << 20 });
    expect(
      last
        .peek(100)
        .map((r) => JSON.parse(r.payload).id)
        .slice(-2),
    ).toEqual(['e8', 'e100']);
    await last.close();
  });

  it('skips a corrupted record in the middle and keeps those after it', async () => {
    const records = [encodeRecord('{"a":1}'), encodeRecord('{"b":2}'), encodeRecord('{"c":3}')];
    const buf = Buffer.concat(records);
    buf[records[0].length + 14] ^= 0xff; // flip a byte inside the second payload
    const decoded = decodeSegment(buf);
    expect(decoded.records.map((r) => r.payload)).toEqual(['{"a":1}', '{"c":3}']);
    expect(decoded.damagedBytes).toBe(records[1].length);
  });

  it('refuses to grow past its bound and warns as it fills', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-'));
    const warnings: string[] = [];
    const s = await Spool.open(dir, { maxBytes: 2000, segmentBytes: 1000, warn: (m) => warnings.push(m) });
    await s.append(payloads(20)); // ≈ 1,640 bytes
    expect(warnings.join()).toMatch(/% full/);
    await expect(s.append(payloads(10))).rejects.toBeInstanceOf(SpoolFullError);
    await s.close();
    // Nothing was acknowledged, so no ack position was written.
    await expect(readFile(join(dir, 'ack.json'), 'utf8')).rejects.toThrow();
  });
});
