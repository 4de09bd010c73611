/**
 * The sources an agent credential may write (issue 10, finding 2): each pattern is a
 * CloudEvents `source` written exactly, or with `*` standing for any run of characters
 * (`agent://rack-4/*`, `agent://host-*`). Nothing else is special: `?`, `.` and brackets are
 * literal. A source is covered when any pattern matches it whole.
 */
export const MAX_SOURCE_PATTERNS = 64;
export const SOURCE_PATTERN = /^[\x21-\x7e]{1,512}$/; // printable ASCII, no spaces

export class SourcePatterns {
  private readonly exact = new Set<string>();
  private readonly wildcards: RegExp[] = [];

  constructor(readonly patterns: readonly string[]) {
    for (const p of patterns) {
      if (!p.includes('*')) this.exact.add(p);
      else
        this.wildcards.push(
          new RegExp(
            `^${p
              .split('*')
              .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
              .join('.*')}$`,
            's',
          ),
        );
    }
  }

  covers(source: string): boolean {
    return this.exact.has(source) || this.wildcards.some((w) => w.test(source));
  }
}

/**
 * INGEST_TOKENS entries: `token` (any source; development and test only) or
 * `token=pattern|pattern…` (the sources it may write).
 */
export function parseIngestToken(entry: string): { token: string; sources: string[] | null } {
  const at = entry.indexOf('=');
  if (at < 0) return { token: entry, sources: null };
  return {
    token: entry.slice(0, at),
    sources: entry
      .slice(at + 1)
      .split('|')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  };
}
