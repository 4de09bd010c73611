import { Clock } from '../platform/clock';
import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { formatAmount, Money } from '../catalog/money';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { parseRfc3339Ms } from '../common/rfc3339';
import { newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { CreditGrantCreatedData } from './credit-grant-events';
import { CreditGrant, grantEndMs, unusedBalance } from './credit-grants';
import { CreditGrantsRepository } from './credit-grants.repository';
import { CreateCreditGrantDto } from './dto/credit-grant.dto';

export type GrantStatus = 'scheduled' | 'active' | 'used' | 'expired' | 'voided';

/** A grant as the API shows it: its terms, what finalized invoices took of it, what is left. */
export interface CreditGrantView {
  grant_id: string;
  workspace_id: string;
  kind: string;
  amount: string;
  currency: string;
  priority: number;
  effective_at: string;
  expires_at: string | null;
  voided_at: string | null;
  reason: string;
  consumed: string;
  balance: string;
  status: GrantStatus;
}

/**
 * Credit grants (operator-made, workspace-read): published as credit_grant.* billing events;
 * consumed by invoices (credit-grants.ts). A grant never changes once made; voiding ends it
 * and voids what no finalized invoice has taken.
 */
@Injectable()
export class CreditGrantsService {
  constructor(
    private readonly grants: CreditGrantsRepository,
    private readonly workspaces: WorkspacesRepository,
    private readonly catalog: CatalogService,
    private readonly billingEvents: BillingEventsService,
    private readonly clock: Clock,
  ) {}

  private async requireWorkspace(workspaceId: string): Promise<void> {
    if (!(await this.workspaces.findById(workspaceId)))
      throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
  }

  async create(
    workspaceId: string,
    dto: CreateCreditGrantDto,
    nowMs = this.clock.now(),
  ): Promise<CreditGrantView> {
    await this.requireWorkspace(workspaceId);
    const amount = new Money(dto.amount);
    if (!amount.gt(0)) throw ApiError.invalid('amount', 'amount must be more than zero');
    // Not inside (or before the end of) a closed month: its invoices are final.
    const effective =
      dto.effective_at === undefined
        ? nowMs
        : await this.catalog.effectiveFrom(dto.effective_at, 'effective_at', nowMs);
    let expires: number | null = null;
    if (dto.expires_at !== undefined) {
      expires = parseRfc3339Ms(dto.expires_at);
      if (expires === null) throw ApiError.invalid('expires_at', 'expires_at must be an RFC 3339 date-time');
      if (expires <= effective) throw ApiError.invalid('expires_at', 'expires_at must be after effective_at');
    }
    const data: CreditGrantCreatedData = {
      grant_id: dto.id ?? `cg_${randomBytes(12).toString('base64url')}`,
      amount: formatAmount(amount),
      currency: 'usd',
      kind: dto.kind,
      priority: dto.priority ?? 50,
      effective_at: new Date(effective).toISOString(),
      expires_at: expires === null ? null : new Date(expires).toISOString(),
      reason: dto.reason,
    };
    const existing = (await this.grants.grants(workspaceId))
      .get(workspaceId)
      ?.find((g) => g.grant_id === data.grant_id);
    if (existing) {
      // The same grant sent again (a retry) is answered with it; another one under its id is refused.
      const same =
        existing.amount === data.amount &&
        existing.kind === data.kind &&
        existing.priority === data.priority &&
        existing.reason === data.reason &&
        existing.expires_at_ms === expires &&
        (dto.effective_at === undefined || existing.effective_at_ms === effective);
      if (!same)
        throw new ApiError(ApiErrorCode.Conflict, `credit grant ${data.grant_id} exists with other terms`);
      return (await this.list(workspaceId, nowMs)).grants.find((g) => g.grant_id === data.grant_id)!;
    }
    await this.billingEvents.publish(
      newBillingEvent('credit_grant.created', workspaceId, data, this.clock.date()),
    );
    return view(
      {
        grant_id: data.grant_id,
        workspace_id: workspaceId,
        kind: data.kind,
        amount: data.amount,
        priority: data.priority,
        effective_at_ms: effective,
        expires_at_ms: expires,
        voided_at_ms: null,
        created_at_ms: nowMs,
        reason: data.reason,
      },
      new Money(0),
      nowMs,
    );
  }

  /** Every grant of the workspace, newest first, with the balance finalized invoices left. */
  async list(workspaceId: string, nowMs = this.clock.now()) {
    await this.requireWorkspace(workspaceId);
    const [grants, ledgers] = await Promise.all([
      this.grants.grants(workspaceId),
      this.grants.ledgers(workspaceId),
    ]);
    const ledger = ledgers.get(workspaceId);
    const views = (grants.get(workspaceId) ?? [])
      .map((g) => view(g, ledger?.consumedOf(g.grant_id) ?? new Money(0), nowMs))
      .sort((a, b) => (a.effective_at < b.effective_at ? 1 : a.effective_at > b.effective_at ? -1 : 0));
    const balance = views
      .filter((v) => v.status === 'active' || v.status === 'scheduled')
      .reduce((a, v) => a.plus(v.balance), new Money(0));
    return { workspace_id: workspaceId, currency: 'usd', balance: formatAmount(balance), grants: views };
  }

  /** Voids what is left of a grant: from now on no invoice takes any more of it. */
  async void(workspaceId: string, grantId: string, reason: string, nowMs = this.clock.now()) {
    const { grants } = await this.list(workspaceId, nowMs);
    const grant = grants.find((g) => g.grant_id === grantId);
    if (!grant) throw new ApiError(ApiErrorCode.NotFound, 'credit grant not found');
    if (grant.voided_at !== null) return { ...grant, voided_amount: '0.00' };
    await this.billingEvents.publish(
      newBillingEvent('credit_grant.voided', workspaceId, { grant_id: grantId, reason }, this.clock.date()),
    );
    return {
      ...grant,
      voided_at: new Date(nowMs).toISOString(),
      status: 'voided' as const,
      voided_amount: grant.balance,
      balance: '0.00',
    };
  }
}

function view(g: CreditGrant, consumed: Money, nowMs: number): CreditGrantView {
  const balance = unusedBalance(g, consumed);
  const status: GrantStatus =
    g.voided_at_ms !== null
      ? 'voided'
      : grantEndMs(g) <= nowMs
        ? 'expired'
        : balance.isZero()
          ? 'used'
          : g.effective_at_ms > nowMs
            ? 'scheduled'
            : 'active';
  return {
    grant_id: g.grant_id,
    workspace_id: g.workspace_id,
    kind: g.kind,
    amount: g.amount,
    currency: 'usd',
    priority: g.priority,
    effective_at: new Date(g.effective_at_ms).toISOString(),
    expires_at: g.expires_at_ms === null ? null : new Date(g.expires_at_ms).toISOString(),
    voided_at: g.voided_at_ms === null ? null : new Date(g.voided_at_ms).toISOString(),
    reason: g.reason,
    consumed: formatAmount(consumed),
    balance: formatAmount(status === 'expired' ? new Money(0) : balance),
    status,
  };
}
