import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './test-env';

/** Stops or starts one service of the local stack (as an operator would), for failure tests. */
export function stack(action: 'up' | 'down', service: 'kafka' | 'clickhouse'): void {
  execFileSync('bash', [join(ROOT, 'stack', 'stack.sh'), action, service], { stdio: 'inherit' });
}
