import { Logger } from '@nestjs/common';
import { Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchPayload } from 'kafkajs';
import { BatchAbandoned } from './batch-retry';
import { KafkaClient } from './kafka-client';
import { superviseConsumer } from './supervise-consumer';

/** One consumer of one topic, as every gpumeter role runs it. */
export interface ConsumerSpec {
  groupId: string;
  topic: string;
  /** A new group starts at the beginning (projections) or at the end (webhooks: from now on). */
  fromBeginning: boolean;
  /** Fetch sizes and the like, beyond KafkaClient.createConsumer's defaults. */
  fetch?: Partial<ConsumerConfig>;
  partitionsConsumedConcurrently?: ConsumerRunConfig['partitionsConsumedConcurrently'];
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
  /** The partitions the group gave this member, on every (re)join. */
  onAssigned?: (partitions: number[]) => void;
  /** Starts the whole thing again (after a crash kafkajs does not restart). */
  restart: () => Promise<void>;
  isStopping: () => boolean;
  logger: Logger;
}

/**
 * The one consumer start-up: a consumer from KafkaClient, supervised (restarted after a crash
 * kafkajs gives up on: supervise-consumer.ts), offsets committed only by the handler
 * (autoCommit off, nothing auto-resolved), and a batch abandoned because the consumer stops or
 * the group rebalances (BatchAbandoned) left uncommitted for the next owner instead of
 * crashing the consumer. Returns the consumer at once (a handler commits through it, and may
 * run before `started` resolves) and `started`, which resolves once it runs.
 */
export function runConsumer(
  client: KafkaClient,
  spec: ConsumerSpec,
): { consumer: Consumer; started: Promise<void> } {
  const consumer = client.createConsumer({ groupId: spec.groupId, ...spec.fetch });
  return { consumer, started: start(consumer, spec) };
}

async function start(consumer: Consumer, spec: ConsumerSpec): Promise<void> {
  superviseConsumer(consumer, spec.restart, spec.isStopping, spec.logger);
  if (spec.onAssigned) {
    const onAssigned = spec.onAssigned;
    consumer.on(consumer.events.GROUP_JOIN, (e) => onAssigned(e.payload.memberAssignment[spec.topic] ?? []));
  }
  await consumer.connect();
  await consumer.subscribe({ topic: spec.topic, fromBeginning: spec.fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    ...(spec.partitionsConsumedConcurrently
      ? { partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently }
      : {}),
    eachBatch: async (payload) => {
      try {
        await spec.eachBatch(payload);
      } catch (e) {
        // Stopping or rebalancing: nothing of the batch was committed, the next owner reads it.
        if (!(e instanceof BatchAbandoned)) throw e;
      }
    },
  });
}
