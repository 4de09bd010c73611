import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Endpoint signing secrets, encrypted at rest. A signing secret has to be read back to sign
 * (unlike an API key, it cannot be kept as a hash), and it travels in billing events and lives
 * in ClickHouse: both only ever hold `v1.<iv>.<ciphertext>.<tag>` (AES-256-GCM, base64url).
 * The key is WEBHOOK_SECRETS_KEY (required in production); development and test fall back to a
 * fixed key so local runs need no setup.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(base64Key: string | undefined) {
    this.key = base64Key
      ? Buffer.from(base64Key, 'base64')
      : createHash('sha256').update('gpumeter development webhook secrets key').digest();
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, body, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string): string {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || !body || !tag) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}

/** A new signing secret: `whsec_` + 32 random bytes in base64 (Standard Webhooks). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
