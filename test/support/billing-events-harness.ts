import 'reflect-metadata';
import { DiscoveryService } from '@nestjs/core';
import { appModule } from '../../src/app.module';
import { loadConfig } from '../../src/app-config';
import { KafkaAdmin } from '../../src/platform/kafka/kafka-admin';
import { KafkaClient } from '../../src/platform/kafka/kafka-client';
import { KafkaProducer } from '../../src/platform/kafka/kafka-producer';
import { MetricsService } from '../../src/platform/metrics/metrics.service';
import {
  BillingEventEnvelope,
  BillingEventProjection,
} from '../../src/platform/billing-events/billing-event';
import { BillingEventsService } from '../../src/platform/billing-events/billing-events.service';
import { BillingEventsConsumer } from '../../src/platform/billing-events/billing-events-consumer.service';
import { RegisteredBillingEvents } from '../../src/platform/billing-events/provide-billing-events';

/* eslint-disable @typescript-eslint/no-explicit-any -- Nest module metadata is untyped */

/** Every provider the service's modules declare, read from their metadata (nothing is started). */
export function declaredProviders(): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const walk = (mod: any) => {
    if (mod && typeof mod.forwardRef === 'function') mod = mod.forwardRef();
    const cls = typeof mod === 'function' ? mod : mod?.module;
    if (!cls || seen.has(mod)) return;
    seen.add(mod);
    out.push(...(Reflect.getMetadata('providers', cls) ?? []), ...(mod.providers ?? []));
    for (const i of [...(Reflect.getMetadata('imports', cls) ?? []), ...(mod.imports ?? [])]) walk(i);
  };
  walk(appModule(loadConfig({ GPUMETER_ENV: 'test' })));
  return out;
}

/**
 * The billing events service as the application wires it — every module's event types and
 * every projection its modules provide, found by the same discovery — over stand-in storage
 * that records what each projection was asked to write (no Kafka, no ClickHouse: this is
 * about which events are accepted and which projection receives them).
 */
export function billingEventsHarness() {
  const logged: BillingEventEnvelope[] = [];
  const writes: string[] = [];
  const committed: string[] = [];
  const metrics = new MetricsService();
  // Any storage call is recorded by name and does nothing.
  const storage: any = new Proxy(
    {},
    {
      get: (_t, name) => async () => {
        writes.push(String(name));
        return name === 'findById' ? undefined : [];
      },
    },
  );
  const instances: unknown[] = [];
  for (const p of declaredProviders()) {
    if (typeof p === 'function' && p.prototype instanceof BillingEventProjection)
      instances.push(new (p as any)(...Array.from({ length: p.length }, () => storage)));
    else if ((p as any)?.useValue instanceof RegisteredBillingEvents) instances.push((p as any).useValue);
  }
  const discovery = { getProviders: () => instances.map((instance) => ({ instance })) };
  const config = loadConfig({ GPUMETER_ENV: 'test' });
  const noKafka = {} as KafkaProducer & KafkaAdmin & KafkaClient;
  const svc = new BillingEventsService(
    config,
    noKafka,
    noKafka,
    { append: async (events: BillingEventEnvelope[]) => void logged.push(...events) } as any,
    discovery as unknown as DiscoveryService,
  );
  svc.onModuleInit();
  const consumer = new BillingEventsConsumer(config, noKafka, noKafka, noKafka, svc, metrics);
  (consumer as any).consumer = {
    commitOffsets: async (o: Array<{ offset: string }>) => committed.push(o[0].offset),
  };
  const projections = instances.filter(
    (i): i is BillingEventProjection => i instanceof BillingEventProjection,
  );
  return { svc, consumer, projections, logged, writes, metrics, committed };
}
/* eslint-enable @typescript-eslint/no-explicit-any */
