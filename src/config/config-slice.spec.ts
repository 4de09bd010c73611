import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';
import { ConfigurationError, loadSlices, SliceContext, toInt, variablesOf } from './config-slice';

class PortSlice {
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @IsOptional()
  @IsString()
  TOKEN?: string;

  static readonly SECRETS = ['TOKEN'] as const;

  static problems(c: PortSlice, { production }: SliceContext): string[] {
    return production && c.TOKEN === undefined ? ['TOKEN: TOKEN is required in production'] : [];
  }
}

class RetrySlice {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RETRIES = 3;

  static problems(c: RetrySlice, { of }: SliceContext): string[] {
    return c.RETRIES > of(PortSlice).PORT ? ['RETRIES: RETRIES must not exceed PORT'] : [];
  }
}

class ClaimsPortToo {
  @IsString()
  PORT = 'x';
}

const problemsOf = (env: Record<string, string>, production = false) => {
  try {
    loadSlices(env, [PortSlice, RetrySlice], () => production);
    return [];
  } catch (e) {
    return (e as ConfigurationError).problems;
  }
};

describe('configuration slices', () => {
  it('reads each slice’s variables, with defaults, and names what it reads', () => {
    const loaded = loadSlices({ PORT: '8080', OTHER: 'ignored' }, [PortSlice, RetrySlice], () => false);
    expect(loaded.get(PortSlice)).toMatchObject({ PORT: 8080 });
    expect(loaded.get(RetrySlice)).toMatchObject({ RETRIES: 3 });
    expect(variablesOf(PortSlice).sort()).toEqual(['PORT', 'TOKEN']);
  });

  it.each([
    [{ PORT: '0' }, false, 'PORT: PORT must not be less than 1; got "0"'],
    [{ PORT: 'eighty' }, false, 'PORT: PORT must be an integer number; got "eighty"'],
    [{ TOKEN: '' }, true, 'TOKEN: TOKEN is required in production'],
    [{ RETRIES: '9', PORT: '5' }, false, 'RETRIES: RETRIES must not exceed PORT'],
  ])('%j (production %s): %s', (env, production, problem) => {
    expect(problemsOf(env, production)).toContain(problem);
  });

  it('never shows a secret’s value', () => {
    class Secret {
      @IsString()
      @Min(100)
      KEY = '';
      static readonly SECRETS = ['KEY'] as const;
    }
    expect(() => loadSlices({ KEY: 'hunter2' }, [Secret], () => false)).toThrow(
      /KEY: .*got \(secret, not shown\)/,
    );
  });

  it('stops when two slices claim one variable', () => {
    expect(() => loadSlices({}, [PortSlice, ClaimsPortToo], () => false)).toThrow(
      'PORT is read by two configuration slices: PortSlice and ClaimsPortToo',
    );
  });
});
