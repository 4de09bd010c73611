import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';

/**
 * How gpumeter reads its configuration: each module declares its own slice — a class whose
 * properties are named exactly like their environment variables, validated with
 * class-validator — and the service's root lists them (src/app-config.ts). `loadSlices`
 * reads and validates every slice at start-up and throws one ConfigurationError naming each
 * bad variable (never showing a secret's value). Nothing else reads process.env.
 */

/** Environment variable text → number, leaving non-numbers for the validator to name. */
export const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
export const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : value;

export type RuntimeEnvironment = 'development' | 'test' | 'production';

/** What a slice's own checks may look at beyond itself. */
export interface SliceContext {
  production: boolean;
  /** Another slice, already read (relations between settings of two modules). */
  of<S extends object>(slice: ConfigSliceClass<S>): S;
}

/** A module's configuration slice: the class, its secrets, and what its fields' rules cannot say. */
export interface ConfigSliceClass<S extends object = object> {
  new (): S;
  /** Settings of the slice that are secrets: never logged, never echoed in errors. */
  readonly SECRETS?: readonly string[];
  /** Problems beyond the fields' own rules: settings refused in production, relations. */
  problems?(slice: S, context: SliceContext): string[];
}

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigurationError';
  }
}

/** The environment variables a slice reads: its validated properties. */
export function variablesOf(slice: ConfigSliceClass): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(slice, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

/**
 * Reads and validates every slice from `env`; throws ConfigurationError naming each bad
 * variable. `production` decides which slice checks apply (GPUMETER_ENV=production).
 */
export function loadSlices(
  env: Record<string, string | undefined>,
  slices: readonly ConfigSliceClass[],
  production: (read: SliceContext['of']) => boolean,
): Map<ConfigSliceClass, object> {
  const owner = new Map<string, ConfigSliceClass>();
  for (const slice of slices)
    for (const name of variablesOf(slice)) {
      const other = owner.get(name);
      if (other)
        throw new Error(`${name} is read by two configuration slices: ${other.name} and ${slice.name}`);
      owner.set(name, slice);
    }
  const secrets = new Set(slices.flatMap((s) => s.SECRETS ?? []));
  const loaded = new Map<ConfigSliceClass, object>();
  const problems: string[] = [];
  for (const slice of slices) {
    const plain: Record<string, string> = {};
    for (const name of variablesOf(slice)) {
      const value = env[name];
      if (value !== undefined && value !== '') plain[name] = value;
    }
    const instance = plainToInstance(slice, plain, { exposeDefaultValues: true });
    problems.push(...describe(validateSync(instance, { forbidUnknownValues: false }), env, secrets));
    loaded.set(slice, instance);
  }
  const of = <S extends object>(slice: ConfigSliceClass<S>): S => {
    const found = loaded.get(slice);
    if (!found) throw new Error(`configuration slice ${slice.name} is not loaded`);
    return found as S;
  };
  const context: SliceContext = { production: production(of), of };
  for (const slice of slices) problems.push(...(slice.problems?.(loaded.get(slice)!, context) ?? []));
  if (problems.length > 0) throw new ConfigurationError(problems);
  return loaded;
}

function describe(
  errors: ValidationError[],
  env: Record<string, string | undefined>,
  secrets: ReadonlySet<string>,
): string[] {
  return errors.flatMap((e) => {
    const raw = env[e.property];
    const shown =
      raw === undefined ? '(unset)' : secrets.has(e.property) ? '(secret, not shown)' : JSON.stringify(raw);
    const messages = Object.values(e.constraints ?? {});
    return messages.map(
      (m) => `${e.property}: ${m.startsWith(e.property) ? m : `${e.property} ${m}`}; got ${shown}`,
    );
  });
}
