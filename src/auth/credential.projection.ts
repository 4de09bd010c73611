import { Injectable } from '@nestjs/common';
import { BillingEvent, HandledBy, ProjectionOf } from '../platform/billing-events/billing-event';
import { CredentialsRepository } from './credentials.repository';

const Base = ProjectionOf(
  'workspace.key_created',
  'workspace.key_revoked',
  'agent_token.created',
  'agent_token.revoked',
);
type Handled = HandledBy<typeof Base>;

/**
 * Projects credential events into `credentials` and `credential_revocations` (idempotent:
 * the same event writes the same row). The key a workspace is created with is projected by
 * the workspace projection, which alone knows whether that creation won (first one wins).
 */
@Injectable()
export class CredentialProjection extends Base {
  constructor(private readonly credentials: CredentialsRepository) {
    super();
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
    for (const event of events) await this.applyOne(event);
  }

  private async applyOne(event: BillingEvent<Handled>): Promise<void> {
    const at = Date.parse(event.time);
    switch (event.type) {
      case 'workspace.key_created': {
        const d = event.data;
        await this.credentials.insert(
          {
            credential_id: d.key_id,
            kind: 'workspace',
            workspace_id: event.subject,
            name: d.name,
            sources: [],
            secret_hash: d.key_hash,
            secret_prefix: d.key_prefix,
            created_at_ms: at,
          },
          event.id,
        );
        return;
      }
      case 'agent_token.created': {
        const d = event.data;
        await this.credentials.insert(
          {
            credential_id: d.token_id,
            kind: 'agent',
            workspace_id: '',
            name: d.name,
            sources: d.sources,
            secret_hash: d.token_hash,
            secret_prefix: d.token_prefix,
            created_at_ms: at,
          },
          event.id,
        );
        return;
      }
      case 'workspace.key_revoked':
        await this.credentials.revoke(event.data.key_id, at, event.id);
        return;
      case 'agent_token.revoked':
        await this.credentials.revoke(event.data.token_id, at, event.id);
        return;
    }
  }
}
