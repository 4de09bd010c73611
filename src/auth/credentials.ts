import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer credentials gpumeter issues: 32 random bytes, shown once, stored only as SHA-256.
 * A fast hash is enough here (unlike passwords): a 256-bit random secret cannot be guessed
 * from its hash. The prefix says what a credential is, so a token of the wrong shape is
 * refused without looking anything up.
 */
export const WORKSPACE_KEY_PREFIX = 'gpm_ws_';
export const AGENT_TOKEN_PREFIX = 'gpm_at_';
const ISSUED_SHAPE = /^gpm_(ws|at)_[A-Za-z0-9_-]{43}$/;

export function newWorkspaceApiKey(): string {
  return `${WORKSPACE_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function newAgentToken(): string {
  return `${AGENT_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Whether a presented token could be a credential gpumeter issued (no I/O, no hashing). */
export function hasIssuedShape(token: string): boolean {
  return ISSUED_SHAPE.test(token);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** First characters of a key, safe to show and log, to tell keys apart. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 12);
}

/** The id of the key a workspace was created with (derived, so a replay and the migration agree). */
export function initialKeyId(apiKeyHash: string): string {
  return `wk_${apiKeyHash.slice(0, 16)}`;
}

export function newCredentialId(kind: 'wk' | 'at'): string {
  return `${kind}_${randomBytes(8).toString('hex')}`;
}

/** Constant-time comparison of a presented token with a configured secret. */
export function secretEquals(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
