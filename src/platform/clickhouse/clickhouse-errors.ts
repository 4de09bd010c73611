/**
 * ClickHouse error codes that a row's own content causes: sending the same row again fails
 * the same way, whatever the server's state. Every other failure (network, timeouts, memory,
 * too many parts, a missing table while an operator migrates) may pass, so it is retried.
 */
const DATA_ERROR_CODES: ReadonlySet<number> = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (e.g. a lone surrogate in JSON)
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
]);

/** The server's error code in a ClickHouse error (18.16 writes `Code: N, e.displayText() = …`). */
export function clickHouseErrorCode(e: unknown): number | null {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (typeof err?.code === 'string' && /^\d+$/.test(err.code)) return Number(err.code);
  const m = typeof err?.message === 'string' ? /\bCode: (\d+)/.exec(err.message) : null;
  return m ? Number(m[1]) : null;
}

/**
 * Whether applying a record failed because of the record itself: a ClickHouse data error, or
 * our own code tripping over its content (TypeError, RangeError, SyntaxError). Such a failure
 * repeats on every attempt, so the record is dead-lettered instead of retried forever.
 */
export function isCausedByRecord(e: unknown): boolean {
  const code = clickHouseErrorCode(e);
  if (code !== null) return DATA_ERROR_CODES.has(code);
  // fetch reports a refused or reset connection as `TypeError: fetch failed` with a cause.
  if ((e as { cause?: unknown } | null)?.cause !== undefined) return false;
  return e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError;
}
