import { Injectable, OnModuleInit } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { BillingPeriod } from './billing-period';
import { InvoicesRepository } from './invoices.repository';

/**
 * A closed month never changes: no price or plan change may take effect inside (or before the
 * end of) a month whose invoices are final. Registered with the catalog, which checks every
 * change's effective instant (the catalog cannot depend on invoicing; invoicing depends on it).
 */
@Injectable()
export class ClosedPeriodGuard implements OnModuleInit {
  constructor(
    private readonly catalog: CatalogService,
    private readonly invoices: InvoicesRepository,
  ) {}

  onModuleInit(): void {
    this.catalog.registerEffectiveFromGuard((atMs) => this.refuse(atMs));
  }

  async refuse(atMs: number): Promise<string | null> {
    const closed = [...(await this.invoices.closedPeriods())]
      .map((p) => BillingPeriod.parse(p)!)
      .filter((p) => p.endMs > atMs)
      .sort((a, b) => b.compare(a));
    if (closed.length === 0) return null;
    return `${closed[0].toString()} is closed (its invoices are final), so a change must take effect at or after ${new Date(closed[0].endMs).toISOString()}`;
  }
}
