import { csvSafe } from './export-writer';

describe('csvSafe', () => {
  it('defuses cells a spreadsheet would run as formulas', () => {
    expect(csvSafe('=HYPERLINK("http://x")')).toBe(`'=HYPERLINK("http://x")`);
    expect(csvSafe('+1')).toBe(`'+1`);
    expect(csvSafe('-2')).toBe(`'-2`);
    expect(csvSafe('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(csvSafe('\tx')).toBe(`'\tx`);
  });

  it('leaves ordinary text alone', () => {
    expect(csvSafe('app_train')).toBe('app_train');
    expect(csvSafe('a=b')).toBe('a=b');
    expect(csvSafe('')).toBe('');
  });
});
