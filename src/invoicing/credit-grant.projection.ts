import { Injectable } from '@nestjs/common';
import { parseRfc3339Ms } from '../common/rfc3339';
import { BillingEvent, HandledBy, ProjectionOf } from '../platform/billing-events/billing-event';
import { CreditGrantsRepository } from './credit-grants.repository';

const Base = ProjectionOf('credit_grant.created', 'credit_grant.voided');
type Handled = HandledBy<typeof Base>;

/** Projects credit_grant.* events into `credit_grants` and `credit_grant_voids`. Idempotent. */
@Injectable()
export class CreditGrantProjection extends Base {
  constructor(private readonly grants: CreditGrantsRepository) {
    super();
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
    for (const event of events) await this.applyOne(event);
  }

  private async applyOne(event: BillingEvent<Handled>): Promise<void> {
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
