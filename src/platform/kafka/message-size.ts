import { Message } from 'kafkajs';

/** Per-record framing (lengths, attributes, offsets) and per-batch header, over-estimated. */
const RECORD_OVERHEAD_BYTES = 64;
export const BATCH_OVERHEAD_BYTES = 128;

/** Bytes a message takes in a record batch (an upper estimate). */
export function encodedSize(m: Message): number {
  let n = RECORD_OVERHEAD_BYTES + byteLength(m.key) + byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    n += Buffer.byteLength(k) + 8;
    for (const part of [v].flat()) n += byteLength(part);
  }
  return n;
}

function byteLength(v: string | Buffer | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** Whether kafkajs (or the broker through it) refused a request as too large. */
export function isTooLargeError(e: unknown): boolean {
  for (let err = e as { type?: unknown; originalError?: unknown; cause?: unknown } | undefined; err;) {
    if (err.type === 'MESSAGE_TOO_LARGE' || err.type === 'RECORD_LIST_TOO_LARGE') return true;
    err = (err.originalError ?? err.cause) as typeof err;
  }
  return false;
}
