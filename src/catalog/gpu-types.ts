/**
 * The GPU types the price catalog knows. Events naming any other type are rejected
 * (contract §1), and so are price changes. The list is fixed in code on purpose: whether an
 * event is valid must not depend on the catalog's state when it is judged, or `gpumeter
 * replay` could judge an event otherwise than the live consumer did. A new GPU type is a
 * release (add it here, then price it with a price change).
 */
export const SEED_GPU_TYPES = [
  'T4',
  'L4',
  'A10G',
  'L40S',
  'A100-40GB',
  'A100-80GB',
  'H100',
  'H200',
  'B200',
] as const;

const known = new Set<string>(SEED_GPU_TYPES);

export function isKnownGpuType(value: unknown): value is string {
  return typeof value === 'string' && known.has(value);
}
