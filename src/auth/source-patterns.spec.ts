import fc from 'fast-check';
import { parseIngestToken, SourcePatterns } from './source-patterns';

describe('source patterns (agent credentials)', () => {
  const p = new SourcePatterns(['agent://gpu-host-17', 'agent://rack-4/*', 'agent://host-*.eu']);
  it.each([
    ['agent://gpu-host-17', true],
    ['agent://gpu-host-170', false],
    ['agent://gpu-host-1', false],
    ['agent://rack-4/node-2', true],
    ['agent://rack-4/', true],
    ['agent://rack-40/node-2', false],
    ['agent://host-9.eu', true],
    ['agent://host-9xeu', false], // '.' is literal
    ['agent://host-9.eu/extra', false],
    ['AGENT://gpu-host-17', false],
  ])('%s covered: %s', (source, covered) => {
    expect(p.covers(source)).toBe(covered);
  });
  it('treats every character but * literally', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('*')),
        (s) => {
          const exact = new SourcePatterns([s]);
          expect(exact.covers(s)).toBe(true);
          expect(exact.covers(`${s}x`)).toBe(false);
          expect(new SourcePatterns([`${s}*`]).covers(`${s}anything\nelse`)).toBe(true);
        },
      ),
    );
  });
  it('parses INGEST_TOKENS entries', () => {
    expect(parseIngestToken('token-0123456789abcdef')).toEqual({
      token: 'token-0123456789abcdef',
      sources: null,
    });
    expect(parseIngestToken('token-0123456789abcdef=agent://a|agent://rack-*')).toEqual({
      token: 'token-0123456789abcdef',
      sources: ['agent://a', 'agent://rack-*'],
    });
  });
});
