import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import { ExportFormat } from './dto/export-query.dto';

export type ExportRecord = Record<string, string>;

/**
 * Text a spreadsheet would run as a formula. Finance opens CSV exports in spreadsheets, and
 * app and function ids come from customers: a cell starting with one of these is written
 * with a leading apostrophe (OWASP's advice for CSV injection). JSONL carries values as they are.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvSafe(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * Streams an export: records arrive in batches (one ClickHouse read each) and are written as
 * they come through `stream.pipeline`, which waits while the client is slow and, when the
 * client goes away, destroys the response and ends the batch generator (so the ClickHouse
 * read behind it stops): memory holds one batch whatever the span, and an abandoned export
 * neither hangs nor keeps anything (issue 10, finding 7).
 * `textColumns` are the columns holding customer-supplied text (guarded in CSV).
 * A failure after the first byte cannot become an error status: the connection is destroyed
 * without the closing chunk, so the client sees a truncated transfer, never a short file.
 */
export async function streamExport(
  res: Response,
  options: {
    format: ExportFormat;
    filename: string;
    columns: readonly string[];
    textColumns: ReadonlySet<string>;
    batches: AsyncIterable<ExportRecord[]>;
    onError: (err: Error) => void;
    onAbandoned?: () => void;
  },
): Promise<void> {
  const { format, columns, textColumns } = options;
  res.status(200);
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
  res.setHeader('Content-Disposition', `attachment; filename="${options.filename}.${format}"`);
  res.setHeader('Cache-Control', 'no-store');
  async function* text(): AsyncGenerator<string> {
    if (format === 'csv') yield stringify([columns]);
    for await (const batch of options.batches) {
      if (batch.length === 0) continue;
      if (format === 'jsonl') {
        yield batch.map((r) => `${JSON.stringify(pick(r, columns))}\n`).join('');
      } else {
        const rows = batch.map((r) =>
          columns.map((c) => (textColumns.has(c) ? csvSafe(r[c] ?? '') : (r[c] ?? ''))),
        );
        yield stringify(rows);
      }
    }
  }
  try {
    await pipeline(Readable.from(text(), { objectMode: false, highWaterMark: 1 }), res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
      options.onAbandoned?.();
      return;
    }
    options.onError(err as Error);
    res.destroy();
  }
}

function pick(record: ExportRecord, columns: readonly string[]): ExportRecord {
  const out: ExportRecord = {};
  for (const c of columns) out[c] = record[c] ?? '';
  return out;
}
