import { Logger } from '@nestjs/common';
import { EachBatchPayload } from 'kafkajs';

/** Thrown inside eachBatch to give a batch up without committing (shutdown or rebalance). */
export class BatchAbandoned extends Error {}

const BACKOFF_START_MS = 200;
const BACKOFF_MAX_MS = 10_000;

/**
 * Retries one step of a batch (store, dead-letter, commit) with capped exponential backoff,
 * heartbeating while it waits, until it succeeds or the batch must be given up (the consumer
 * stops or the group rebalanced): then BatchAbandoned, and nothing of the batch is committed.
 */
export async function retryUntilDone(
  payload: Pick<EachBatchPayload, 'isRunning' | 'isStale' | 'heartbeat'>,
  what: string,
  step: () => Promise<unknown>,
  logger: Logger,
  onFailure: () => void = () => undefined,
): Promise<void> {
  let delay = BACKOFF_START_MS;
  for (let attempt = 1; ; attempt++) {
    if (!payload.isRunning() || payload.isStale()) throw new BatchAbandoned(`batch abandoned while ${what}`);
    try {
      await step();
      if (attempt > 1) logger.log(`${what} succeeded after ${attempt} attempts`);
      return;
    } catch (e) {
      onFailure();
      logger.error(`${what} failed (attempt ${attempt}), retrying in ${delay} ms: ${(e as Error).message}`);
      const until = Date.now() + delay;
      while (Date.now() < until) {
        if (!payload.isRunning() || payload.isStale())
          throw new BatchAbandoned(`batch abandoned while ${what}`);
        await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
        await payload.heartbeat().catch(() => undefined);
      }
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }
}
