import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../common/access';

/**
 * The customer usage dashboard (contract §4, `GET /`): a page, its stylesheet and its script,
 * read once at start. The page signs in with a workspace API key and reads the public API from
 * the browser, so it can show nothing the key could not read anyway. The page and stylesheet
 * stay in src/dashboard/web; the script is built from the TypeScript modules beside them into
 * dist/web/dashboard.js (`npm run build`: scripts/build-dashboard.mjs). The compiled
 * controller lives at different depths (src/ under jest, dist/, dist-bench/src/), so the
 * project root is found by walking up to it.
 */
function projectRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'src', 'dashboard', 'web', 'index.html'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`dashboard files (src/dashboard/web) not found above ${__dirname}`);
  }
}
const ROOT = projectRoot();
const read = (name: string) => readFileSync(join(ROOT, 'src', 'dashboard', 'web', name), 'utf8');
/** The bundled script; a clear error when the build that makes it did not run. */
function builtScript(): string {
  const path = join(ROOT, 'dist', 'web', 'dashboard.js');
  if (!existsSync(path)) throw new Error(`the dashboard script is not built (${path}): run npm run build`);
  return readFileSync(path, 'utf8');
}
/**
 * The chart library, served from the installed package (no CDN: the page's CSP allows this
 * origin only). uPlot draws on a canvas and sets sizes through element.style, which a CSP
 * without 'unsafe-inline' allows (only style attributes and elements are refused).
 */
const vendor = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');

/** Scripts and styles only from this origin, API calls only to it, no framing. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

@ApiExcludeController()
@Public() // static files; the page reads the API with the key its user enters
@Controller()
export class DashboardController {
  private readonly page = read('index.html');
  private readonly script = builtScript();
  private readonly style = read('dashboard.css');
  private readonly chartScript = vendor('uPlot.iife.min.js');
  private readonly chartStyle = vendor('uPlot.min.css');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  @Header('Cache-Control', 'no-cache')
  index(): string {
    return this.page;
  }

  @Get('dashboard.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Cache-Control', 'no-cache')
  scriptFile(): string {
    return this.script;
  }

  @Get('dashboard.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Cache-Control', 'no-cache')
  stylesheet(): string {
    return this.style;
  }

  @Get('vendor/uplot.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Cache-Control', 'public, max-age=86400')
  chartLibrary(): string {
    return this.chartScript;
  }

  @Get('vendor/uplot.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Cache-Control', 'public, max-age=86400')
  chartStylesheet(): string {
    return this.chartStyle;
  }
}
