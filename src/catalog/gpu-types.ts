/**
 * The GPU types the price catalog knows. Events naming any other type are rejected
 * (contract §1). The catalog module may add types at run time (a catalog change event);
 * validation always asks `isKnownGpuType`.
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

export function knownGpuTypes(): string[] {
  return [...known];
}

/** Called by the catalog when a change event introduces a GPU type. */
export function registerGpuType(gpuType: string): void {
  known.add(gpuType);
}
