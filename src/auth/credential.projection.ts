import { Injectable, OnModuleInit } from '@nestjs/common';
import {
  BillingEvent,
  BillingEventEnvelope,
  BillingEventProjection,
  BillingEventType,
} from '../platform/billing-events/billing-event';
import { checkFields, matching, text } from '../platform/billing-events/billing-event-checks';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { CredentialsRepository } from './credentials.repository';
import { MAX_SOURCE_PATTERNS, SOURCE_PATTERN } from './source-patterns';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CREDENTIAL_ID = /^(wk|at)_[0-9a-f]{16}$/;

const HANDLES = [
  'workspace.key_created',
  'workspace.key_revoked',
  'agent_token.created',
  'agent_token.revoked',
] as const satisfies readonly BillingEventType[];
type Handled = (typeof HANDLES)[number];

/**
 * Projects credential events into `credentials` and `credential_revocations` (idempotent:
 * the same event writes the same row). The key a workspace is created with is projected by
 * the workspace projection, which alone knows whether that creation won (first one wins).
 */
@Injectable()
export class CredentialProjection implements BillingEventProjection<Handled>, OnModuleInit {
  readonly handles = HANDLES;

  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  refuse(event: BillingEventEnvelope<Handled>): string | null {
    switch (event.type) {
      case 'workspace.key_created':
        return checkFields(event.data, {
          key_id: matching(CREDENTIAL_ID),
          name: text(200),
          key_hash: matching(SHA256_HEX),
          key_prefix: text(64),
        });
      case 'agent_token.created':
        return checkFields(event.data, {
          token_id: matching(CREDENTIAL_ID),
          name: text(200),
          sources: (v) =>
            Array.isArray(v) &&
            v.length >= 1 &&
            v.length <= MAX_SOURCE_PATTERNS &&
            v.every((s) => typeof s === 'string' && SOURCE_PATTERN.test(s)),
          token_hash: matching(SHA256_HEX),
          token_prefix: text(64),
        });
      case 'workspace.key_revoked':
        return checkFields(event.data, { key_id: matching(CREDENTIAL_ID) });
      case 'agent_token.revoked':
        return checkFields(event.data, { token_id: matching(CREDENTIAL_ID) });
    }
  }

  async apply(event: BillingEvent<Handled>): Promise<void> {
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
