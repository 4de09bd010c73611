import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PlanTermsResponse } from '../../catalog/dto/catalog.response';
import {
  CreditGrantUse,
  InvoiceDocument,
  InvoiceLine,
  InvoiceStatus,
  InvoiceView,
  LineBreakdown,
  LineEvents,
  LINE_KINDS,
  LINE_UNITS,
  LinePrice,
} from '../invoice';

export class LinePriceResponse implements LinePrice {
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty({ example: '0.001097' })
  unit_price!: string;
  @ApiProperty({ example: '7.3', description: 'in the line’s unit, exact (rating.ts quantityInUnits)' })
  quantity!: string;
  @ApiProperty({ description: 'exact, unrounded: the line’s amount is the rounded sum of these' })
  amount!: string;
}

export class LineBreakdownResponse implements LineBreakdown {
  @ApiProperty()
  app_id!: string;
  @ApiProperty()
  function_id!: string;
  @ApiProperty({ example: '7.3' })
  quantity!: string;
  @ApiProperty({ description: 'rounded on its own; informational' })
  amount!: string;
}

class AdjustedLineResponse {
  @ApiProperty({ example: '2026-10' })
  period!: string;
  @ApiProperty({ example: 'gpu:H100' })
  key!: string;
}

export class LineEventsResponse implements LineEvents {
  @ApiProperty({ example: '1523', description: 'how many events' })
  events!: string;
  @ApiProperty({
    example: '36144000',
    description: 'their quantity in the line’s base unit (GPU-, millicore- or MiB-ms)',
  })
  quantity_ms!: string;
  @ApiProperty({ example: 'mh64x2:…', description: 'multiset hash of (source, id, quantity_ms)' })
  checksum!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  ingested_after!: string | null;
  @ApiProperty({ format: 'date-time' })
  ingested_until!: string;
}

export class BilledBeforeResponse {
  @ApiProperty({ example: '3600' })
  quantity!: string;
  @ApiProperty({ example: '3.95' })
  amount!: string;
}

/** A threshold invoice's place in its month. */
export class ThresholdResponse {
  @ApiProperty({ example: 1, description: 'the n in inv_<YYYY-MM>_<workspace>_t<n>' })
  sequence!: number;
  @ApiProperty({ example: '500.00', description: 'the threshold its month reached' })
  billing_threshold!: string;
  @ApiProperty({ format: 'date-time', description: 'it bills the usage accepted up to this instant' })
  usage_as_of!: string;
}

export class InvoiceLineResponse implements InvoiceLine {
  @ApiProperty({ example: 'inv_2026-11_acme-ml:gpu:H100' })
  id!: string;
  @ApiProperty({ example: 'gpu:H100' })
  key!: string;
  @ApiProperty({ enum: LINE_KINDS })
  kind!: (typeof LINE_KINDS)[number];
  @ApiProperty()
  description!: string;
  @ApiProperty({
    example: '7.3',
    description:
      'in `unit`, an exact plain decimal without trailing zeros (the one quantity format of /v1/usage, exports and invoices)',
  })
  quantity!: string;
  @ApiProperty({ enum: LINE_UNITS })
  unit!: (typeof LINE_UNITS)[number];
  @ApiProperty({ type: String, nullable: true, description: 'null when several prices applied (see prices)' })
  unit_price!: string | null;
  @ApiProperty({ type: () => [LinePriceResponse] })
  prices!: LinePriceResponse[];
  @ApiProperty({ example: '8.01', description: 'major units, rounded half-up to the cent' })
  amount!: string;
  @ApiProperty({ type: () => [LineBreakdownResponse] })
  breakdown!: LineBreakdownResponse[];
  @ApiProperty({ type: () => AdjustedLineResponse, required: false })
  adjusts?: AdjustedLineResponse;
  @ApiProperty({
    type: () => LineEventsResponse,
    required: false,
    description: 'the events behind a usage line of a finalized invoice (GET …/lines/{line_id}/events)',
  })
  events?: LineEventsResponse;
  @ApiPropertyOptional({
    type: () => BilledBeforeResponse,
    description:
      "a month billed in parts: what the month's earlier threshold invoices billed under this key (the line is the rest)",
  })
  billed_before?: BilledBeforeResponse;
}

/** A credit grant on an invoice. */
export class CreditGrantUseResponse implements CreditGrantUse {
  @ApiProperty({ example: 'cg_welcome_2026', description: '`plan:<YYYY-MM>` for the plan’s monthly credits' })
  grant_id!: string;
  @ApiProperty({ example: 'promotional', enum: ['promotional', 'prepaid', 'goodwill', 'plan'] })
  kind!: string;
  @ApiProperty({ example: 50 })
  priority!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at!: string | null;
  @ApiProperty({ example: '250.00', description: 'what was left of it before this invoice' })
  balance_before!: string;
  @ApiProperty({ example: '40.00', description: 'what this invoice took of it (own and adjustment lines)' })
  applied!: string;
  @ApiProperty({ example: '210.00' })
  balance_after!: string;
  @ApiProperty({ example: '0.00', description: 'what expired unused with this month' })
  expired!: string;
}

/** An invoice's content (a finalized one never changes; a correction is an adjustment line). */
export class InvoiceDocumentResponse implements InvoiceDocument {
  @ApiProperty({ example: 'inv_2026-11_acme-ml' })
  id!: string;
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ example: '2026-11' })
  period!: string;
  @ApiProperty({ format: 'date-time' })
  period_start!: string;
  @ApiProperty({ format: 'date-time' })
  period_end!: string;
  @ApiProperty({ example: 'usd' })
  currency!: string;
  @ApiProperty({ type: () => PlanTermsResponse })
  plan!: PlanTermsResponse;
  @ApiProperty({ type: () => [InvoiceLineResponse] })
  lines!: InvoiceLineResponse[];
  @ApiProperty({ example: '412.07' })
  usage_subtotal!: string;
  @ApiProperty({ example: '100.00' })
  credits_applied!: string;
  @ApiProperty({ example: '612.07' })
  total!: string;
  @ApiProperty({
    type: () => [CreditGrantUseResponse],
    required: false,
    description: 'every credit grant in force for the month (absent on invoices from before grants)',
  })
  credit_grants?: CreditGrantUseResponse[];
  @ApiProperty({
    format: 'date-time',
    required: false,
    description: 'finalized invoices: the cut their lines’ events were taken at',
  })
  events_as_of?: string;
  @ApiPropertyOptional({
    type: () => ThresholdResponse,
    description: 'a threshold invoice (mid-month): present only on those',
  })
  threshold?: ThresholdResponse;
  @ApiPropertyOptional({
    type: [String],
    description: "a month-end invoice after threshold invoices: their ids (it bills the month's rest)",
  })
  threshold_invoices?: string[];
  @ApiProperty({ format: 'date-time' })
  computed_at!: string;
}

class InvoiceStripeResponse {
  @ApiProperty({ example: 'cus_…' })
  customer_id!: string;
  @ApiProperty({ example: 'in_…' })
  invoice_id!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'our line id → Stripe invoice item id',
  })
  invoice_item_ids!: Record<string, string>;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Stripe’s page where the customer sees and pays the invoice, when Stripe gave one',
  })
  hosted_invoice_url!: string | null;
}

const INVOICE_STATUSES: InvoiceStatus[] = ['draft', 'finalized', 'pushed', 'paid', 'payment_failed'];

export class InvoiceResponse extends InvoiceDocumentResponse implements InvoiceView {
  @ApiProperty({ enum: INVOICE_STATUSES })
  status!: InvoiceStatus;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finalized_at!: string | null;
  @ApiProperty({ type: () => InvoiceStripeResponse, nullable: true })
  stripe!: InvoiceStripeResponse | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  paid_at!: string | null;
  @ApiProperty({ type: String, nullable: true })
  payment_failure!: string | null;
}

/** GET /v1/invoices: a page, newest period first (Stripe's way: limit, starting_after, has_more). */
export class InvoiceListResponse {
  @ApiProperty({ type: () => [InvoiceResponse] })
  invoices!: InvoiceResponse[];
  @ApiProperty()
  has_more!: boolean;
}

/** GET /v1/invoices/upcoming: the open period's invoice as it stands now (never stored). */
export class UpcomingInvoiceResponse extends InvoiceDocumentResponse {
  @ApiProperty({ enum: ['upcoming'] })
  status!: 'upcoming';
}
