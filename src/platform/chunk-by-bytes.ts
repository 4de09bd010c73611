/**
 * Cuts a list into consecutive runs whose sizes add up to at most `maxBytes` (and hold at most
 * `maxCount` items), in order. An item larger than `maxBytes` alone is a run of its own: the
 * caller decides whether it can ever be sent. Returns [start, end) index pairs.
 */
export function chunkByBytes(
  sizes: readonly number[],
  maxBytes: number,
  maxCount = Infinity,
): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  while (start < sizes.length) {
    let end = start;
    let bytes = 0;
    while (end < sizes.length && end - start < maxCount && (end === start || bytes + sizes[end] <= maxBytes))
      bytes += sizes[end++];
    runs.push([start, end]);
    start = end;
  }
  return runs;
}

/**
 * Sends items[from, to) with `send`; when the receiver refuses a run as too large
 * (`tooLarge(error)`), sends it again as two halves, down to single items, which go to
 * `single` (refuse or throw: one item that can never fit). Any other failure is thrown.
 */
export async function sendHalvingWhenTooLarge(
  from: number,
  to: number,
  send: (from: number, to: number) => Promise<void>,
  tooLarge: (error: unknown) => boolean,
  single: (index: number, error: unknown) => void,
): Promise<void> {
  try {
    await send(from, to);
  } catch (e) {
    if (!tooLarge(e)) throw e;
    if (to - from === 1) return single(from, e);
    const mid = from + Math.ceil((to - from) / 2);
    await sendHalvingWhenTooLarge(from, mid, send, tooLarge, single);
    await sendHalvingWhenTooLarge(mid, to, send, tooLarge, single);
  }
}
