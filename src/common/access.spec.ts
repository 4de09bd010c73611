import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ACCESS } from '../common/access';

/** Every route declares who may call it: the global guard refuses one that does not. */
function controllerFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return controllerFiles(path);
    return name.endsWith('.controller.ts') ? [path] : [];
  });
}

describe('access declarations', () => {
  const files = controllerFiles(join(__dirname, '..'));

  it('finds the controllers', () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
  });

  it('every route of every controller declares @Allow(...) or @Public()', () => {
    const undeclared: string[] = [];
    let routes = 0;
    for (const file of files) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading each controller to read its metadata
      const exported = require(file) as Record<string, unknown>;
      for (const value of Object.values(exported)) {
        if (typeof value !== 'function' || Reflect.getMetadata(PATH_METADATA, value) === undefined) continue;
        const proto = (value as { prototype: Record<string, unknown> }).prototype;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
          routes++;
          const access = Reflect.getMetadata(ACCESS, handler) ?? Reflect.getMetadata(ACCESS, value);
          if (access === undefined) undeclared.push(`${value.name}.${name}`);
        }
      }
    }
    expect(routes).toBeGreaterThan(40);
    expect(undeclared).toEqual([]);
  });
});
