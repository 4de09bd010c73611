import { Static, Type } from '@sinclair/typebox';
import { MONEY_PATTERN } from '../catalog/patterns';
import { parseRfc3339Ms } from '../common/rfc3339';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { Matching, Nullable, OneOf, Rfc3339, Text } from '../platform/billing-events/payload-schema';
import { GRANT_KINDS } from './credit-grants';

/** Credit grant events on billing.events.v1 (subject: the workspace). */
export const GRANT_ID_PATTERN = /^cg_[A-Za-z0-9_-]{1,64}$/;

export const CreditGrantCreatedData = Type.Object({
  grant_id: Matching(GRANT_ID_PATTERN),
  /** USD, up to two decimals */
  amount: Matching(MONEY_PATTERN),
  currency: Type.Literal('usd'),
  kind: OneOf(GRANT_KINDS),
  /** 0–100, 0 consumed first */
  priority: Type.Integer({ minimum: 0, maximum: 100 }),
  effective_at: Rfc3339(),
  expires_at: Nullable(Rfc3339()),
  reason: Text(500),
});
export type CreditGrantCreatedData = Static<typeof CreditGrantCreatedData>;

/** The grant's unused part is voided from the event's time on. */
export const CreditGrantVoidedData = Type.Object({
  grant_id: Matching(GRANT_ID_PATTERN),
  reason: Type.String({ maxLength: 500 }),
});
export type CreditGrantVoidedData = Static<typeof CreditGrantVoidedData>;

export const CREDIT_GRANT_EVENTS = defineBillingEvents(
  { 'credit_grant.created': CreditGrantCreatedData, 'credit_grant.voided': CreditGrantVoidedData },
  {
    'credit_grant.created': ({ data }) =>
      data.expires_at !== null && parseRfc3339Ms(data.expires_at)! <= parseRfc3339Ms(data.effective_at)!
        ? 'data.expires_at must be after data.effective_at'
        : null,
  },
);

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof CREDIT_GRANT_EVENTS> {}
}
