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
