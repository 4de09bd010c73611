import { Injectable } from '@nestjs/common';
import { newBillingEvent, SYSTEM_SUBJECT } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { BillingEventsConsumer } from '../platform/billing-events/billing-events-consumer.service';
import { Clock } from '../platform/clock';
import { BillingPeriod } from './billing-period';
import { InvoiceRunState } from './invoice-events';
import { InvoicesRepository } from './invoices.repository';
import { runAsSeen } from './run-window';

/**
 * An invoice run's record: its state published after every step (`invoice_run.updated`, a
 * deterministic id per version), read back as last published, and what a run reads before
 * deciding anything (the projections caught up with Kafka, whether the month is closed).
 */
@Injectable()
export class InvoiceRunLog {
  constructor(
    private readonly billingEvents: BillingEventsService,
    private readonly projections: BillingEventsConsumer,
    private readonly invoices: InvoicesRepository,
    private readonly clock: Clock,
  ) {}

  async publish(state: InvoiceRunState): Promise<void> {
    const { status } = state;
    if (status === 'abandoned') throw new Error(`run ${state.id}: 'abandoned' is a reading, never published`);
    state.version++;
    state.updated_at = this.clock.date().toISOString();
    await this.billingEvents.publish({
      ...newBillingEvent('invoice_run.updated', SYSTEM_SUBJECT, { ...state, status }, this.clock.date()),
      id: `invoice_run.updated:${state.id}:${state.version}`,
    });
  }

  /** The run as last published (run-window.ts: runAsSeen). */
  async get(id: string, nowMs = this.clock.now()): Promise<InvoiceRunState | undefined> {
    return runAsSeen(await this.invoices.run(id), nowMs);
  }

  /** Makes the projections reflect everything Kafka holds: decisions below read them. */
  catchUp(): Promise<void> {
    return this.projections.catchUp();
  }

  async isClosed(period: BillingPeriod): Promise<boolean> {
    return (await this.invoices.closedPeriods()).has(period.toString());
  }
}
