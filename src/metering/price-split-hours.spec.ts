import { checkRetiredCuts, monthNumber, priceCuts, segmentAt, splitHours } from './price-split-hours';

const H = 3_600_000;
const T0 = Date.UTC(2026, 9, 1);

describe('splitHours', () => {
  it('leaves hours that segments start on whole', () => {
    expect(splitHours([T0, T0 + 5 * H])).toEqual([]);
  });

  it('cuts an hour at a change inside it, each piece in its segment', () => {
    const change = T0 + 5 * H + 23 * 60_000 + 17_500;
    expect(splitHours([T0, change])).toEqual([
      {
        hourMs: T0 + 5 * H,
        pieces: [
          { segment: 0, fromMs: T0 + 5 * H, toMs: change },
          { segment: 1, fromMs: change, toMs: T0 + 6 * H },
        ],
      },
    ]);
  });

  it('cuts one hour at several changes, and keeps other hours apart', () => {
    const a = T0 + 2 * H + 1;
    const b = T0 + 2 * H + 30 * 60_000;
    const c = T0 + 3 * H; // on a whole hour: no cut
    const d = T0 + 9 * H + 59 * 60_000;
    const split = splitHours([T0, a, b, c, d]);
    expect(split.map((s) => s.hourMs)).toEqual([T0 + 2 * H, T0 + 9 * H]);
    expect(split[0].pieces).toEqual([
      { segment: 0, fromMs: T0 + 2 * H, toMs: a },
      { segment: 1, fromMs: a, toMs: b },
      { segment: 2, fromMs: b, toMs: T0 + 3 * H },
    ]);
    expect(split[1].pieces.map((p) => p.segment)).toEqual([3, 4]);
    // The pieces tile the hour.
    for (const s of split) {
      expect(s.pieces[0].fromMs).toBe(s.hourMs);
      expect(s.pieces[s.pieces.length - 1].toMs).toBe(s.hourMs + H);
      for (let i = 1; i < s.pieces.length; i++) expect(s.pieces[i].fromMs).toBe(s.pieces[i - 1].toMs);
    }
  });

  it('finds the segment of an instant', () => {
    expect(segmentAt([T0, T0 + 90 * 60_000], T0 + H)).toBe(0);
    expect(segmentAt([T0, T0 + 90 * 60_000], T0 + 2 * H)).toBe(1);
  });
});

describe('retired months: the cuts their pieces were stored at', () => {
  const a = T0 + 2 * H + 1;
  const b = T0 + 2 * H + 30 * 60_000;
  const d = T0 + 9 * H + 59 * 60_000;
  const split = splitHours([T0, a, b, T0 + 3 * H, d]);

  it('priceCuts lists every cut, not the hours’ first instants', () => {
    expect(priceCuts(split)).toEqual([a, b, d]);
    expect(priceCuts([])).toEqual([]);
  });

  it('monthNumber is the UTC YYYYMM ClickHouse partitions by', () => {
    expect(monthNumber(T0)).toBe(202610);
    expect(monthNumber(Date.UTC(2026, 10, 1) - 1)).toBe(202610);
    expect(monthNumber(Date.UTC(2026, 11, 31, 23, 59, 59, 999))).toBe(202612);
  });

  it('checkRetiredCuts accepts an hour cut exactly as recorded, whatever else the month holds', () => {
    expect(() => checkRetiredCuts(split[0], [a, b, d])).not.toThrow();
    expect(() => checkRetiredCuts(split[1], [a, b, d])).not.toThrow();
  });

  it('checkRetiredCuts refuses an hour cut at other instants, or at fewer or more', () => {
    expect(() => checkRetiredCuts(split[0], [a, d])).toThrow(/retired.*must not change/);
    expect(() => checkRetiredCuts(split[0], [a, b + 1, d])).toThrow(/retired/);
    expect(() => checkRetiredCuts(split[1], [a, b])).toThrow(/retired/);
    expect(() => checkRetiredCuts(split[1], [a, b, d, d + 1])).toThrow(/retired/);
  });
});
