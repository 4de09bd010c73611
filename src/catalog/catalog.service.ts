import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { parseRfc3339Ms } from '../common/rfc3339';
import {
  BillingEvent,
  HandledBy,
  newBillingEvent,
  ProjectionOf,
  SYSTEM_SUBJECT,
} from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { ApiError } from '../common/api-error';
import { CatalogRepository } from './catalog.repository';
import { StoredRows } from '../platform/clickhouse/stored-rows';
import { CostChangeDto, PlanChangeDto, PriceChangeDto } from './dto/price-change.dto';
import { PRICE_PATTERN } from './patterns';
import { isKnownGpuType } from './gpu-types';
import { PlanChange, PriceCatalog, PriceChange } from './price-catalog';
import { CostCatalog, CostChange } from './cost-catalog';

/** Earliest instant a change may take effect: no usage predates it. */
const EARLIEST_EFFECTIVE_MS = Date.UTC(2000, 0, 1);
/** How far ahead a change may be scheduled. */
export const MAX_EFFECTIVE_AHEAD_YEARS = 5;

/**
 * Says why a change may not take effect at an instant (null: it may). Registered by the
 * modules that know what must not change retroactively (invoicing: a closed month).
 */
export type EffectiveFromGuard = (atMs: number) => Promise<string | null>;

const Base = ProjectionOf('catalog.prices_changed', 'catalog.plan_changed', 'catalog.cost_changed');
type Handled = HandledBy<typeof Base>;

/**
 * The effective-dated price catalog: changes are published as events and projected into
 * `catalog_changes`; `load()` builds the catalog in force (seed + changes) for rating.
 */
@Injectable()
export class CatalogService extends Base {
  constructor(
    private readonly repository: CatalogRepository,
    private readonly billingEvents: BillingEventsService,
    private readonly stored: StoredRows,
    private readonly clock: Clock,
  ) {
    super();
  }

  private readonly guards: EffectiveFromGuard[] = [];

  registerEffectiveFromGuard(guard: EffectiveFromGuard): void {
    this.guards.push(guard);
  }

  /**
   * The instant a price or plan change takes effect, checked: RFC 3339, not before 2000, at
   * most five years ahead, and not inside a month that is already closed (its invoices are
   * final: a price or plan change there would make them disagree with the catalog).
   */
  async effectiveFrom(
    value: string,
    field = 'effective_from',
    nowMs = this.clock.now(),
    guarded = true,
  ): Promise<number> {
    const ms = parseRfc3339Ms(value);
    if (ms === null) throw ApiError.invalid(field, `${field} must be an RFC 3339 date-time`);
    const latest = new Date(nowMs);
    latest.setUTCFullYear(latest.getUTCFullYear() + MAX_EFFECTIVE_AHEAD_YEARS);
    if (ms < EARLIEST_EFFECTIVE_MS || ms > latest.getTime())
      throw ApiError.invalid(
        field,
        `${field} must lie between 2000-01-01 and ${MAX_EFFECTIVE_AHEAD_YEARS} years from now`,
      );
    for (const guard of guarded ? this.guards : []) {
      const refused = await guard(ms);
      if (refused) throw ApiError.invalid(field, `${field}: ${refused}`);
    }
    return ms;
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
    for (const event of events)
      await this.repository.append({
        event_id: event.id,
        type: event.type,
        effective_from_ms: Date.parse(event.data.effective_from),
        published_at_ms: Date.parse(event.time),
        data: JSON.stringify(event.data),
      });
  }

  async load(): Promise<PriceCatalog> {
    const prices: PriceChange[] = [];
    const plans: PlanChange[] = [];
    for (const change of await this.changes()) {
      switch (change.type) {
        case 'catalog.prices_changed':
          prices.push(change.data);
          break;
        case 'catalog.plan_changed':
          plans.push(change.data);
          break;
        case 'catalog.cost_changed':
          break;
      }
    }
    return new PriceCatalog(prices, plans);
  }

  /** The cost catalog (what the GPUs cost, per provider) as every cost change built it. */
  async loadCosts(): Promise<CostCatalog> {
    const costs: CostChange[] = [];
    for (const change of await this.changes())
      if (change.type === 'catalog.cost_changed') costs.push(change.data);
    return new CostCatalog(costs);
  }

  /** Every stored catalog change that passes the consuming checks, in publication order. */
  private async changes(): Promise<BillingEvent<Handled>[]> {
    return this.stored.read(
      'catalog_changes',
      await this.repository.all(),
      (row) => {
        const type = this.handles.find((t) => t === row.type);
        if (!type) return undefined;
        const data = JSON.parse(row.data) as unknown;
        // The same checks as on consuming: a row an older build wrote is skipped, not misread.
        return this.billingEvents.payloadRefusal(type, SYSTEM_SUBJECT, data) === null
          ? ({ type, data } as BillingEvent<Handled>)
          : undefined;
      },
      (row) => row.event_id,
    );
  }

  async changePrices(dto: PriceChangeDto): Promise<PriceChange> {
    const at = await this.effectiveFrom(dto.effective_from);
    const gpu = dto.gpu_per_second ?? {};
    for (const [gpuType, price] of Object.entries(gpu)) {
      if (!isKnownGpuType(gpuType))
        throw ApiError.invalid(`gpu_per_second.${gpuType}`, `unknown GPU type ${gpuType}`);
      if (typeof price !== 'string' || !PRICE_PATTERN.test(price))
        throw ApiError.invalid(`gpu_per_second.${gpuType}`, 'prices are decimal strings like "0.001097"');
    }
    if (Object.keys(gpu).length === 0 && !dto.cpu_per_core_second && !dto.memory_per_gib_second)
      throw ApiError.invalid('gpu_per_second', 'name at least one price to change');
    const change: PriceChange = {
      effective_from: new Date(at).toISOString(),
      ...(Object.keys(gpu).length ? { gpu_per_second: gpu } : {}),
      ...(dto.cpu_per_core_second ? { cpu_per_core_second: dto.cpu_per_core_second } : {}),
      ...(dto.memory_per_gib_second ? { memory_per_gib_second: dto.memory_per_gib_second } : {}),
    };
    await this.billingEvents.publish(
      newBillingEvent('catalog.prices_changed', SYSTEM_SUBJECT, change, this.clock.date()),
    );
    return change;
  }

  /**
   * Publishes catalog.cost_changed. Any instant, closed months included: costs change no
   * invoice, and a provider's bill is often known only after the month (margin reports are
   * computed from the cost catalog as it stands).
   */
  async changeCosts(dto: CostChangeDto): Promise<CostChange> {
    const at = await this.effectiveFrom(dto.effective_from, 'effective_from', this.clock.now(), false);
    const gpu = dto.gpu_per_second ?? {};
    for (const [gpuType, cost] of Object.entries(gpu)) {
      if (!isKnownGpuType(gpuType))
        throw ApiError.invalid(`gpu_per_second.${gpuType}`, `unknown GPU type ${gpuType}`);
      if (typeof cost !== 'string' || !PRICE_PATTERN.test(cost))
        throw ApiError.invalid(
          `gpu_per_second.${gpuType}`,
          `gpu_per_second.${gpuType} must be a decimal string like "0.00062"`,
        );
    }
    if (
      Object.keys(gpu).length === 0 &&
      dto.cpu_per_core_second === undefined &&
      dto.memory_per_gib_second === undefined
    )
      throw ApiError.invalid('gpu_per_second', 'a cost change names at least one cost');
    const change: CostChange = {
      effective_from: new Date(at).toISOString(),
      provider: dto.provider,
      ...(Object.keys(gpu).length > 0 ? { gpu_per_second: gpu } : {}),
      ...(dto.cpu_per_core_second !== undefined ? { cpu_per_core_second: dto.cpu_per_core_second } : {}),
      ...(dto.memory_per_gib_second !== undefined
        ? { memory_per_gib_second: dto.memory_per_gib_second }
        : {}),
    };
    await this.billingEvents.publish(
      newBillingEvent('catalog.cost_changed', SYSTEM_SUBJECT, change, this.clock.date()),
    );
    return change;
  }

  async changePlan(dto: PlanChangeDto): Promise<PlanChange> {
    const at = await this.effectiveFrom(dto.effective_from);
    const change: PlanChange = {
      effective_from: new Date(at).toISOString(),
      plan: dto.plan,
      base_fee: dto.base_fee,
      monthly_credits: dto.monthly_credits,
      ...(dto.billing_threshold !== undefined ? { billing_threshold: dto.billing_threshold } : {}),
    };
    await this.billingEvents.publish(
      newBillingEvent('catalog.plan_changed', SYSTEM_SUBJECT, change, this.clock.date()),
    );
    return change;
  }

  async view(atMs: number) {
    const catalog = await this.load();
    return {
      at: new Date(atMs).toISOString(),
      currency: 'usd',
      prices: catalog.pricesAt(atMs),
      plans: catalog.knownPlans().flatMap((p) => {
        const terms = catalog.planAt(p, atMs);
        return terms ? [{ ...terms, billing_threshold: catalog.billingThresholdAt(p, atMs) }] : [];
      }),
    };
  }
}
