import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_KEY, freePort, ROOT } from './test-env';

/**
 * A real gpumeter process (the compiled service, as production runs it), so that tests can
 * SIGKILL it mid-stream. Its output goes to .local/test-logs/<name>.log.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  port = 0;
  exited?: Promise<number | null>;
  /** What the process printed (stdout and stderr), also kept in its log file. */
  output = '';

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly role: 'api' | 'consumer' | 'worker' | 'all',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process; unless `waitUntilHealthy` is false, resolves once /healthz answers. */
  async start(extraEnv: Record<string, string> = {}, waitUntilHealthy = true): Promise<this> {
    this.port = await freePort();
    const logDir = join(ROOT, '.local', 'test-logs');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(join(logDir, `${this.name}.log`), { flags: 'a' });
    // As the README says to run it (a larger young generation: fewer scavenges per event).
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=32', join(ROOT, 'dist', 'main.js'), 'serve', '--role', this.role],
      {
        env: { PATH: process.env.PATH ?? '', ...this.env, ...extraEnv, PORT: String(this.port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const keep = (chunk: Buffer) => {
      if (this.output.length < 1_000_000) this.output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    if (!waitUntilHealthy) return this;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}) during start-up`);
      }
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return this;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${this.name} did not answer /healthz within 60 s`);
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    const code = (await this.exited) ?? null;
    this.child = undefined;
    return code;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** /metrics, read as the operator (without METRICS_PORT it is served to the operator key only). */
  async metricsText(): Promise<string> {
    const r = await fetch(`${this.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
    return r.text();
  }

  /** The sum of a metric's samples; with `labelValue`, of the samples carrying that label value. */
  async metric(name: string, labelValue?: string): Promise<number> {
    const text = await this.metricsText();
    let total = 0;
    for (const line of text.split('\n')) {
      if (labelValue !== undefined && !line.includes(`"${labelValue}"`)) continue;
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) {
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }
}
