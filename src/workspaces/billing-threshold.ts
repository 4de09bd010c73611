import { PriceCatalog } from '../catalog/price-catalog';

/** The billing threshold a workspace is held to, and where it comes from. */
export interface BillingThresholdInForce {
  billing_threshold: string | null; // USD; null: no threshold invoices
  source: 'workspace' | 'plan';
}

/**
 * The workspace's own threshold when it set one (an amount, or none at all), else its plan's
 * terms in force at `atMs` (a period's: its start). Pure.
 */
export function billingThresholdInForce(
  own: ReadonlyMap<string, string | null>,
  workspaceId: string,
  catalog: PriceCatalog,
  plan: string,
  atMs: number,
): BillingThresholdInForce {
  if (own.has(workspaceId)) return { billing_threshold: own.get(workspaceId) ?? null, source: 'workspace' };
  return { billing_threshold: catalog.billingThresholdAt(plan, atMs), source: 'plan' };
}
