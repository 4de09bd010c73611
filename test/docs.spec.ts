import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { CONFIG_SLICES } from '../src/app-config';
import { variablesOf } from '../src/config/config-slice';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The documentation stays true: every relative link of the project's Markdown resolves (the
 * file, and the heading when it names one), and the configuration reference names exactly the
 * variables the one configuration class reads.
 */
const ROOT = join(__dirname, '..');

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (['node_modules', '.git', '.local', 'dist'].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...markdownFiles(path));
    else if (name.endsWith('.md')) out.push(path);
  }
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

describe('documentation', () => {
  it('every relative link resolves, to its file and its heading', () => {
    const broken: string[] = [];
    const files = markdownFiles(ROOT);
    expect(files.length).toBeGreaterThan(20);
    let checked = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#');
        const to = path === '' ? file : resolve(dirname(file), path);
        checked++;
        if (!existsSync(to)) broken.push(`${relative(ROOT, file)}: ${target} (no such file)`);
        else if (anchor && to.endsWith('.md') && !anchors(to).has(anchor))
          broken.push(`${relative(ROOT, file)}: ${target} (no such heading)`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });

  it('docs/configuration.md names every variable the configuration slices read, and none they do not', () => {
    // Every module's slice, as the loader reads them (src/app-config.ts).
    const read = new Set(CONFIG_SLICES.flatMap((slice) => variablesOf(slice)));
    expect(read.size).toBeGreaterThan(50);
    const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const documented = new Set(
      [...doc.matchAll(/^\| (`[A-Z][A-Z0-9_]+`(?:, `[A-Z][A-Z0-9_]+`)*) \|/gm)].flatMap((m) =>
        [...m[1].matchAll(/`([A-Z0-9_]+)`/g)].map((n) => n[1]),
      ),
    );
    expect([...read].filter((v) => !documented.has(v)).sort()).toEqual([]);
    expect([...documented].filter((v) => !read.has(v)).sort()).toEqual([]);
  });
});
