/**
 * What a price, an amount of money and a plan name look like. Shared by the request DTOs and
 * by the billing-event checks of every module that carries them (a DTO is its module's own).
 */
/** A decimal price: up to 12 integer digits and 12 decimals, never a float. */
export const PRICE_PATTERN = /^\d{1,12}(\.\d{1,12})?$/;
/** An amount in major units: up to 12 integer digits and 2 decimals. */
export const MONEY_PATTERN = /^\d{1,12}(\.\d{1,2})?$/;
/** A plan's name. */
export const PLAN_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
/** A billing threshold: an amount of at least 1.00 (a smaller invoice is not worth drawing up). */
export const BILLING_THRESHOLD_PATTERN = /^[1-9]\d{0,11}(\.\d{1,2})?$/;
