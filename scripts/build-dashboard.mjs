// Builds the dashboard (src/dashboard/web/*.ts) into one script, dist/web/dashboard.js: its
// TypeScript checked first (its own tsconfig: the DOM, not Node), then bundled by esbuild —
// the modules and the typed API client (openapi-fetch) into one IIFE, so the page loads one
// same-origin script and its CSP stays 'self' only.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/dashboard/web/tsconfig.json'], {
  stdio: 'inherit',
});
await build({
  entryPoints: ['src/dashboard/web/main.ts'],
  outfile: 'dist/web/dashboard.js',
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  sourcemap: false,
  legalComments: 'inline',
  logLevel: 'warning',
});
console.log('build-dashboard: dist/web/dashboard.js');
