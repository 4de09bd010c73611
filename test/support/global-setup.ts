/**
 * Before any integration test: the service they start is dist/, so dist/ must be built from the
 * sources as they are now (a stale build would run old code, and a green run would prove
 * nothing about this one). `npm run test:integration` builds first; a bare `jest` refuses.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script the build runs too
const { staleBuild } = require('../../scripts/build-stamp.js') as { staleBuild: () => string | null };

export default function refuseStaleBuild(): void {
  const why = staleBuild();
  if (why) throw new Error(`integration tests refused: ${why}`);
}
