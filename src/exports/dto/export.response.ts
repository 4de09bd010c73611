import { ApiResponseOptions } from '@nestjs/swagger';

/**
 * An export's answer: CSV (a header row, then one row per record) or JSON Lines (one object
 * per line, described here: every column, always a string — empty when there is no value).
 */
export function exportResponse(columns: readonly string[], description: string): ApiResponseOptions {
  return {
    description,
    content: {
      'text/csv': { schema: { type: 'string', description: `columns: ${columns.join(', ')}` } },
      'application/x-ndjson': {
        schema: {
          type: 'object',
          description: 'the schema of one line',
          properties: Object.fromEntries(columns.map((c) => [c, { type: 'string' }])),
          required: [...columns],
        },
      },
    },
  };
}
