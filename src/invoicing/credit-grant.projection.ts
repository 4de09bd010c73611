import { Injectable, OnModuleInit } from '@nestjs/common';
import { MONEY_PATTERN } from '../catalog/patterns';
import { parseRfc3339Ms } from '../common/rfc3339';
import {
  BillingEvent,
  BillingEventEnvelope,
  BillingEventProjection,
  BillingEventType,
} from '../platform/billing-events/billing-event';
import { checkFields, matching, rfc3339, text } from '../platform/billing-events/billing-event-checks';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { GRANT_KINDS } from './credit-grants';
import { CreditGrantsRepository } from './credit-grants.repository';

const HANDLES = [
  'credit_grant.created',
  'credit_grant.voided',
] as const satisfies readonly BillingEventType[];
type Handled = (typeof HANDLES)[number];

export const GRANT_ID_PATTERN = /^cg_[A-Za-z0-9_-]{1,64}$/;

/** Projects credit_grant.* events into `credit_grants` and `credit_grant_voids`. Idempotent. */
@Injectable()
export class CreditGrantProjection implements BillingEventProjection<Handled>, OnModuleInit {
  readonly handles = HANDLES;

  constructor(
    private readonly grants: CreditGrantsRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  refuse(event: BillingEventEnvelope<Handled>): string | null {
    switch (event.type) {
      case 'credit_grant.created': {
        const problem = checkFields(event.data, {
          grant_id: matching(GRANT_ID_PATTERN),
          amount: matching(MONEY_PATTERN),
          currency: (v) => v === 'usd',
          kind: (v) => typeof v === 'string' && (GRANT_KINDS as readonly string[]).includes(v),
          priority: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100,
          effective_at: rfc3339,
          expires_at: (v) => v === null || rfc3339(v),
          reason: text(500),
        });
        if (problem !== null) return problem;
        const { effective_at, expires_at } = event.data as {
          effective_at: string;
          expires_at: string | null;
        };
        return expires_at !== null && parseRfc3339Ms(expires_at)! <= parseRfc3339Ms(effective_at)!
          ? 'data.expires_at must be after data.effective_at'
          : null;
      }
      case 'credit_grant.voided':
        return checkFields(event.data, {
          grant_id: matching(GRANT_ID_PATTERN),
          reason: (v) => typeof v === 'string' && v.length <= 500,
        });
    }
  }

  async apply(event: BillingEvent<Handled>): Promise<void> {
    const at = Date.parse(event.time);
    switch (event.type) {
      case 'credit_grant.created': {
        const d = event.data;
        await this.grants.insertGrant(
          {
            grant_id: d.grant_id,
            workspace_id: event.subject,
            kind: d.kind,
            amount: d.amount,
            currency: d.currency,
            priority: d.priority,
            effective_at_ms: parseRfc3339Ms(d.effective_at)!,
            expires_at_ms: d.expires_at === null ? null : parseRfc3339Ms(d.expires_at)!,
            reason: d.reason,
            created_at_ms: at,
          },
          event.id,
        );
        return;
      }
      case 'credit_grant.voided':
        await this.grants.insertVoid(
          {
            grant_id: event.data.grant_id,
            workspace_id: event.subject,
            voided_at_ms: at,
            reason: event.data.reason,
          },
          event.id,
        );
        return;
    }
  }
}
