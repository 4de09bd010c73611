import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './test-env';

const run = promisify(execFile);

/**
 * Stops or starts one service of the local stack (as an operator would), for failure tests.
 * Asynchronous on purpose: a synchronous call blocks this process's event loop for as long as
 * the stop takes (seconds), during which the HTTP clients of the test cannot serve their
 * sockets, and the service closes them as idle (keep-alive) under a request about to be sent.
 */
export async function stack(action: 'up' | 'down', service: 'kafka' | 'clickhouse'): Promise<void> {
  const { stdout, stderr } = await run('bash', [join(ROOT, 'stack', 'stack.sh'), action, service]);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
}
