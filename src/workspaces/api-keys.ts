import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Workspace API keys: 32 random bytes, shown once, stored only as SHA-256. A fast hash is
 * enough here (unlike passwords): a 256-bit random key cannot be guessed from its hash.
 */
export function newWorkspaceApiKey(): string {
  return `gpm_ws_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** First characters of a key, safe to show and log, to tell keys apart. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 12);
}

/** Constant-time comparison of a presented token with a configured secret. */
export function secretEquals(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
