import {
  chmod,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  truncate,
  unlink,
  writeFile,
  FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The agent's durable spool: every event is written here, checksummed, and fsync'd before it
 * is sent; it is marked sent only after Kafka (or the API) acknowledged it. A crash at any
 * point leaves either the event unsent in the spool (sent again on restart, same id, billed
 * once) or acknowledged. Disk use is bounded.
 *
 * Layout: `segment-<n>.log` files of records `[magic u32][length u32][crc32 u32][payload]`,
 * and `ack.json` = the position up to which records are acknowledged (replaced atomically).
 * A record cut off at the end of a segment (power cut mid-write) is detected by its length
 * or checksum, reported, and cut away; the records before it are kept.
 */

const MAGIC = 0x47504d53; // "GPMS"
const HEADER = 12;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeRecord(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(body.length, 4);
  out.writeUInt32LE(crc32(body), 8);
  body.copy(out, HEADER);
  return out;
}

export interface DecodedSegment {
  records: Array<{ payload: string; end: number }>;
  /** Offset after the last good record. */
  goodEnd: number;
  /** Bytes that were not a valid record (torn tail or corruption). */
  damagedBytes: number;
}

/** Reads records from `start`; on a bad record, looks for the next valid one. */
export function decodeSegment(buf: Buffer, start = 0): DecodedSegment {
  const records: DecodedSegment['records'] = [];
  let pos = start;
  let goodEnd = start;
  let damaged = 0;
  while (pos < buf.length) {
    const ok =
      buf.length - pos >= HEADER &&
      buf.readUInt32LE(pos) === MAGIC &&
      buf.length - pos - HEADER >= buf.readUInt32LE(pos + 4) &&
      crc32(buf.subarray(pos + HEADER, pos + HEADER + buf.readUInt32LE(pos + 4))) ===
        buf.readUInt32LE(pos + 8);
    if (!ok) {
      pos++;
      damaged++;
      continue;
    }
    const len = buf.readUInt32LE(pos + 4);
    const end = pos + HEADER + len;
    records.push({ payload: buf.toString('utf8', pos + HEADER, end), end });
    pos = end;
    goodEnd = end;
  }
  return { records, goodEnd, damagedBytes: damaged };
}

export interface SpooledRecord {
  payload: string;
  segment: number;
  end: number;
}

export interface SpoolOptions {
  maxBytes: number;
  segmentBytes: number;
  warn: (message: string) => void;
}

export class SpoolFullError extends Error {}

interface AckPosition {
  segment: number;
  offset: number;
}

const segmentName = (n: number) => `segment-${String(n).padStart(12, '0')}.log`;

export class Spool {
  private active!: FileHandle;
  private activeSegment = 0;
  private activeSize = 0;
  private readonly queue: SpooledRecord[] = [];
  private syncedUpTo = 0; // count of queue entries known fsync'd
  private sizes = new Map<number, number>();
  private warnedAt = 0;

  private constructor(
    readonly dir: string,
    private readonly options: SpoolOptions,
    private ack: AckPosition,
  ) {}

  /** Opens (or creates) a spool; records not yet acknowledged are pending again. */
  static async open(dir: string, options: SpoolOptions): Promise<Spool> {
    // Usage data of every workspace on the host: for the agent's user only.
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
    await chmod(dir, PRIVATE_DIR);
    let ack: AckPosition = { segment: 0, offset: 0 };
    try {
      ack = JSON.parse(await readFile(join(dir, 'ack.json'), 'utf8')) as AckPosition;
    } catch {
      /* a new spool */
    }
    const spool = new Spool(dir, options, ack);
    const segments = (await readdir(dir))
      .map((f) => /^segment-(\d+)\.log$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const n of segments) {
      const path = join(dir, segmentName(n));
      const buf = await readFile(path);
      if (n < ack.segment) {
        await unlink(path); // fully acknowledged; its deletion was interrupted
        continue;
      }
      const from = n === ack.segment ? Math.min(ack.offset, buf.length) : 0;
      const decoded = decodeSegment(buf, from);
      if (decoded.damagedBytes > 0) {
        options.warn(
          `spool ${segmentName(n)}: ${decoded.damagedBytes} damaged byte(s) skipped (a record cut by a crash or power cut); ${decoded.records.length} good record(s) kept`,
        );
      }
      if (decoded.goodEnd < buf.length) await truncate(path, decoded.goodEnd);
      for (const r of decoded.records) spool.queue.push({ payload: r.payload, segment: n, end: r.end });
      spool.sizes.set(n, decoded.goodEnd);
    }
    spool.syncedUpTo = spool.queue.length;
    const last = segments.length > 0 ? Math.max(segments[segments.length - 1], ack.segment) : ack.segment;
    await spool.openSegment(last === 0 ? 1 : last);
    return spool;
  }

  private async openSegment(n: number): Promise<void> {
    this.activeSegment = n;
    this.active = await open(join(this.dir, segmentName(n)), 'a', PRIVATE_FILE);
    await this.active.chmod(PRIVATE_FILE);
    this.activeSize = (await stat(join(this.dir, segmentName(n)))).size;
    this.sizes.set(n, this.activeSize);
  }

  get bytesOnDisk(): number {
    let total = 0;
    for (const s of this.sizes.values()) total += s;
    return total;
  }

  /** Records not yet acknowledged. */
  get depth(): number {
    return this.queue.length;
  }

  /** Appends events (not yet durable: call `sync`). Throws SpoolFullError at the disk bound. */
  async append(payloads: string[]): Promise<void> {
    if (payloads.length === 0) return;
    const buffers = payloads.map(encodeRecord);
    const bytes = buffers.reduce((n, b) => n + b.length, 0);
    if (this.bytesOnDisk + bytes > this.options.maxBytes) {
      throw new SpoolFullError(`spool full: ${this.bytesOnDisk} of ${this.options.maxBytes} bytes used`);
    }
    if (this.activeSize > 0 && this.activeSize + bytes > this.options.segmentBytes) {
      await this.active.sync();
      await this.active.close();
      await this.openSegment(this.activeSegment + 1);
    }
    await this.active.write(Buffer.concat(buffers));
    let end = this.activeSize;
    buffers.forEach((b, i) => {
      end += b.length;
      this.queue.push({ payload: payloads[i], segment: this.activeSegment, end });
    });
    this.activeSize = end;
    this.sizes.set(this.activeSegment, end);
    const used = this.bytesOnDisk / this.options.maxBytes;
    if (used >= 0.8 && Date.now() - this.warnedAt > 10_000) {
      this.warnedAt = Date.now();
      this.options.warn(
        `spool ${Math.round(used * 100)} % full (${this.bytesOnDisk} bytes): the sender is not keeping up`,
      );
    }
  }

  /** fsync: everything appended so far survives a crash. */
  async sync(): Promise<void> {
    await this.active.sync();
    this.syncedUpTo = this.queue.length;
  }

  /** The oldest durable, unacknowledged records, in order. */
  peek(max: number): SpooledRecord[] {
    return this.queue.slice(0, Math.min(max, this.syncedUpTo));
  }

  /** Marks the first `count` records acknowledged; drops segments no longer needed. */
  async acknowledge(count: number): Promise<void> {
    if (count <= 0) return;
    const last = this.queue[count - 1];
    this.queue.splice(0, count);
    this.syncedUpTo -= count;
    this.ack = { segment: last.segment, offset: last.end };
    const tmp = join(this.dir, 'ack.json.tmp');
    const handle = await open(tmp, 'w', PRIVATE_FILE);
    await handle.writeFile(JSON.stringify(this.ack));
    await handle.sync();
    await handle.close();
    await rename(tmp, join(this.dir, 'ack.json'));
    for (const n of [...this.sizes.keys()]) {
      if (n < this.ack.segment) {
        await unlink(join(this.dir, segmentName(n))).catch(() => undefined);
        this.sizes.delete(n);
      }
    }
  }

  async close(): Promise<void> {
    await this.active.sync();
    await this.active.close();
  }
}

/** Modes of the spool's folder and files (0700 / 0600). */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** Small JSON state beside the spool (the accountant's checkpoint), replaced atomically. */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value), { mode: PRIVATE_FILE });
  const h = await open(tmp, 'r+');
  await h.sync();
  await h.close();
  await rename(tmp, path);
}
