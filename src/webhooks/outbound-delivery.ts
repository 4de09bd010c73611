import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, UrlPolicy } from './endpoint-url';

/** What one delivery attempt got. */
export interface AttemptResult {
  status: number; // 0 when no HTTP answer came
  durationMs: number;
  error: string;
}

export const ATTEMPT_TIMEOUT_MS = 15_000;
/** Bytes of an answer read at most; the rest is discarded unread. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs one webhook: no redirect is followed (a 3xx is a failed attempt), at most 64 KiB of
 * the answer is read, and the whole attempt times out at 15 s. Every address dialled is
 * checked by the URL policy at connect time. Never throws: failures are in the result.
 */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  policy: UrlPolicy,
  timeoutMs = ATTEMPT_TIMEOUT_MS,
): Promise<AttemptResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, error: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, durationMs: Math.round(performance.now() - started), error });
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return done(0, 'invalid url');
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        lookup: guardedLookup(policy),
        agent: false,
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        const status = res.statusCode ?? 0;
        const finish = () =>
          done(
            status,
            status >= 200 && status < 300
              ? ''
              : status >= 300 && status < 400
                ? 'redirect not followed'
                : `HTTP ${status}`,
          );
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done(0, `no answer within ${timeoutMs / 1000} s`);
    }, timeoutMs);
    req.on('error', (e) => done(0, e.message));
    req.end(body);
  });
}
