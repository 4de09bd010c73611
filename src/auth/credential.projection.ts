import { Injectable, OnModuleInit } from '@nestjs/common';
import { BillingEvent, BillingEventProjection } from '../platform/billing-events/billing-event';
import { checkFields, matching, text } from '../platform/billing-events/billing-event-checks';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import {
  AGENT_TOKEN_CREATED,
  AGENT_TOKEN_REVOKED,
  AgentTokenCreatedData,
  AgentTokenRevokedData,
  WORKSPACE_KEY_CREATED,
  WORKSPACE_KEY_REVOKED,
  WorkspaceKeyCreatedData,
  WorkspaceKeyRevokedData,
} from './credential-events';
import { CredentialsRepository } from './credentials.repository';
import { MAX_SOURCE_PATTERNS, SOURCE_PATTERN } from './source-patterns';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CREDENTIAL_ID = /^(wk|at)_[0-9a-f]{16}$/;

/**
 * Projects credential events into `credentials` and `credential_revocations` (idempotent:
 * the same event writes the same row). The key a workspace is created with is projected by
 * the workspace projection, which alone knows whether that creation won (first one wins).
 */
@Injectable()
export class CredentialProjection implements BillingEventProjection, OnModuleInit {
  readonly handles = [WORKSPACE_KEY_CREATED, WORKSPACE_KEY_REVOKED, AGENT_TOKEN_CREATED, AGENT_TOKEN_REVOKED];

  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  refuse(event: BillingEvent): string | null {
    switch (event.type) {
      case WORKSPACE_KEY_CREATED:
        return checkFields(event.data, {
          key_id: matching(CREDENTIAL_ID),
          name: text(200),
          key_hash: matching(SHA256_HEX),
          key_prefix: text(64),
        });
      case AGENT_TOKEN_CREATED:
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
      case WORKSPACE_KEY_REVOKED:
        return checkFields(event.data, { key_id: matching(CREDENTIAL_ID) });
      case AGENT_TOKEN_REVOKED:
        return checkFields(event.data, { token_id: matching(CREDENTIAL_ID) });
      default:
        return `the credential projection does not handle ${event.type}`;
    }
  }

  async apply(event: BillingEvent): Promise<void> {
    const at = Date.parse(event.time);
    switch (event.type) {
      case WORKSPACE_KEY_CREATED: {
        const d = event.data as WorkspaceKeyCreatedData;
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
      case AGENT_TOKEN_CREATED: {
        const d = event.data as AgentTokenCreatedData;
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
      case WORKSPACE_KEY_REVOKED:
        await this.credentials.revoke((event.data as WorkspaceKeyRevokedData).key_id, at, event.id);
        return;
      case AGENT_TOKEN_REVOKED:
        await this.credentials.revoke((event.data as AgentTokenRevokedData).token_id, at, event.id);
        return;
    }
  }
}
