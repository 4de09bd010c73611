/** Credit grant events on billing.events.v1 (subject: the workspace); names in BillingEventPayloads. */
export interface CreditGrantCreatedData {
  grant_id: string;
  amount: string; // USD, up to two decimals
  currency: string;
  kind: 'promotional' | 'prepaid' | 'goodwill';
  priority: number; // 0–100, 0 consumed first
  effective_at: string; // RFC 3339
  expires_at: string | null;
  reason: string;
}

/** The grant's unused part is voided from the event's time on. */
export interface CreditGrantVoidedData {
  grant_id: string;
  reason: string;
}
