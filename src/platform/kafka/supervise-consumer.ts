import { Logger } from '@nestjs/common';
import { Consumer } from 'kafkajs';

/**
 * kafkajs restarts a consumer after most failures, but not all: after a broker outage longer
 * than its retries (seen: ~30 s with Kafka stopped) the consumer can crash for good and sit
 * idle. A metering consumer must never stop by itself: on a crash that kafkajs will not
 * restart, start it again from scratch, with capped backoff, until it runs or we stop it.
 * Offsets are only ever committed after storage, so a restart re-reads, never skips.
 */
export function superviseConsumer(
  consumer: Consumer,
  restart: () => Promise<void>,
  isStopping: () => boolean,
  logger: Logger,
): void {
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart: kafkajsRestarts } = event.payload as { error: Error; restart: boolean };
    if (kafkajsRestarts || isStopping()) return;
    logger.error(
      `consumer crashed and kafkajs will not restart it (${error.message}); restarting it ourselves`,
    );
    void (async () => {
      let delay = 1000;
      while (!isStopping()) {
        try {
          await consumer.disconnect().catch(() => undefined);
          await restart();
          logger.log('consumer restarted after a crash');
          return;
        } catch (e) {
          logger.error(`restarting the consumer failed, again in ${delay} ms: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 30_000);
        }
      }
    })();
  });
}
