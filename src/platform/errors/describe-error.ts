/** An error's message for a log line or a dead-letter header, whatever was thrown. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  try {
    return String(e);
  } catch {
    return 'unprintable error';
  }
}
