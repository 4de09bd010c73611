/**
 * The published list prices (USD per second) and plans that the catalog starts from. They are
 * in force from the beginning of time; every later change is a `catalog.*` event on
 * billing.events.v1 with the instant it takes effect (see ./README.md).
 */
export const SEED_PRICES = {
  gpu_per_second: {
    B200: '0.001736',
    H200: '0.001261',
    H100: '0.001097',
    'A100-80GB': '0.000694',
    'A100-40GB': '0.000583',
    L40S: '0.000542',
    A10G: '0.000306',
    L4: '0.000222',
    T4: '0.000164',
  } as Record<string, string>,
  cpu_per_core_second: '0.0000131',
  memory_per_gib_second: '0.00000222',
};

/** Plans: a monthly base fee and monthly free credits (USD). */
export const SEED_PLANS: Record<string, { base_fee: string; monthly_credits: string }> = {
  starter: { base_fee: '0.00', monthly_credits: '30.00' },
  team: { base_fee: '250.00', monthly_credits: '100.00' },
};

export const DEFAULT_PLAN = 'starter';
