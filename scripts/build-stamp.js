// The build's stamp: a hash of what `npm run build` compiles (src/**/*.ts but the unit specs,
// and the tsconfig files). `npm run build` writes it into dist/; the integration tests refuse to
// start when dist/ was built from other sources (a stale build would test old code and pass).
//   node scripts/build-stamp.js --write | --check
'use strict';
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync, writeFileSync, existsSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const STAMP = join(ROOT, 'dist', 'build-stamp.json');

function compiledSources(dir = join(ROOT, 'src')) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...compiledSources(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) out.push(path);
  }
  return out;
}

function sourceHash() {
  const hash = createHash('sha256');
  const files = [...compiledSources(), join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json')];
  for (const file of files.map((f) => relative(ROOT, f)).sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(ROOT, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Why dist/ cannot be trusted, or null when it was built from the sources as they are. */
function staleBuild() {
  if (!existsSync(STAMP)) return 'dist/ has no build stamp: run `npm run build`';
  const { sources } = JSON.parse(readFileSync(STAMP, 'utf8'));
  if (sources !== sourceHash()) return 'dist/ was built from other sources than src/ holds now: run `npm run build`';
  return null;
}

module.exports = { sourceHash, staleBuild };

if (require.main === module) {
  if (process.argv.includes('--write')) writeFileSync(STAMP, `${JSON.stringify({ sources: sourceHash() })}\n`);
  else if (process.argv.includes('--check')) {
    const why = staleBuild();
    if (why) {
      console.error(why);
      process.exit(1);
    }
  } else {
    console.error('usage: node scripts/build-stamp.js --write | --check');
    process.exit(2);
  }
}
