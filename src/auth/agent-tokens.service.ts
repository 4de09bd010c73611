import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { newBillingEvent, SYSTEM_SUBJECT } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { AgentTokenCreatedData } from './credential-events';
import { CredentialStore } from './credential-store.service';
import { apiKeyPrefix, hashApiKey, newAgentToken, newCredentialId } from './credentials';
import { CredentialRow, CredentialsRepository, credentialView } from './credentials.repository';
import { CreateAgentTokenDto } from './dto/credential.dto';

export interface AgentTokenView {
  id: string;
  name: string;
  sources: string[];
  token_prefix: string;
  created_at: string;
  revoked_at: string | null;
}

const toView = (row: CredentialRow): AgentTokenView => ({
  ...credentialView(row),
  sources: row.sources,
  token_prefix: row.secret_prefix,
});

/** Per-host agent credentials bound to the sources they may write (operator only). */
@Injectable()
export class AgentTokensService {
  constructor(
    private readonly billingEvents: BillingEventsService,
    private readonly credentials: CredentialsRepository,
    private readonly store: CredentialStore,
    private readonly clock: Clock,
  ) {}

  /** The token is in the answer and nowhere else: only its hash is published and stored. */
  async create(dto: CreateAgentTokenDto): Promise<AgentTokenView & { token: string }> {
    const token = newAgentToken();
    const data: AgentTokenCreatedData = {
      token_id: newCredentialId('at'),
      name: dto.name,
      sources: [...new Set(dto.sources)],
      token_hash: hashApiKey(token),
      token_prefix: apiKeyPrefix(token),
    };
    const event = newBillingEvent('agent_token.created', SYSTEM_SUBJECT, data, this.clock.date());
    await this.billingEvents.publish(event);
    const row = {
      credential_id: data.token_id,
      kind: 'agent' as const,
      workspace_id: '',
      name: data.name,
      sources: data.sources,
      secret_hash: data.token_hash,
      secret_prefix: data.token_prefix,
      created_at_ms: Date.parse(event.time),
    };
    this.store.remember(row);
    return { ...toView({ ...row, revoked_at_ms: null }), token };
  }

  async list(): Promise<{ data: AgentTokenView[] }> {
    return { data: (await this.credentials.list('agent')).map(toView) };
  }

  /** Revokes at once here, on every other replica within one credential reload. */
  async revoke(id: string): Promise<void> {
    const token = (await this.credentials.list('agent')).find((t) => t.credential_id === id);
    if (!token) throw new ApiError(ApiErrorCode.NotFound, 'agent token not found');
    this.store.forget(id);
    if (token.revoked_at_ms !== null) return;
    await this.billingEvents.publish(
      newBillingEvent('agent_token.revoked', SYSTEM_SUBJECT, { token_id: id }, this.clock.date()),
    );
  }
}
