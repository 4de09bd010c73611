import { DAY_MS } from '../common/time';
import { AttemptedData } from './webhook-events';

/**
 * The dispatcher's schedule, pure (no I/O, no clock of its own: every decision takes `nowMs`):
 * which messages wait for their next attempt and when, which may start now within the
 * concurrency limits, what an attempt's answer means for the next one, and when an endpoint
 * has failed long enough to be disabled. Table-tested (delivery-queue.spec.ts).
 */

/** A message waiting for its next attempt in this process. */
export interface Pending {
  id: string;
  endpointId: string;
  workspaceKey: string;
  body: string;
  attemptsMade: number;
  dueAtMs: number;
}

export class DeliveryQueue {
  private readonly pending = new Map<string, Pending>();
  private readonly running = new Set<string>();
  /** Message ids this process saw succeed or give up: never queued again (unless asked). */
  private readonly settled = new Set<string>();
  private readonly inFlight = new Map<string, number>();
  private totalInFlight = 0;

  constructor(private readonly limits: { total: number; perEndpoint: number }) {}

  /** Queues a message unless it is queued, running or settled here already. */
  add(p: Pending): boolean {
    if (this.pending.has(p.id) || this.running.has(p.id) || this.settled.has(p.id)) return false;
    this.pending.set(p.id, p);
    return true;
  }

  /** Queues a message again, whatever was known of it (a retry someone asked for). */
  requeue(p: Pending): void {
    this.settled.delete(p.id);
    this.pending.set(p.id, p);
  }

  /** The next attempt of a message that just ran (or whose record failed). */
  schedule(p: Pending): void {
    this.pending.set(p.id, p);
  }

  settle(id: string): void {
    this.settled.add(id);
  }

  /** Forgets queued messages this replica no longer owns (a rebalance gave them to another). */
  dropWhere(gone: (p: Pending) => boolean): void {
    for (const [id, p] of this.pending) if (gone(p)) this.pending.delete(id);
  }

  /**
   * The messages due at `nowMs` that may start now, oldest due first: at most `total` in
   * flight, at most `perEndpoint` for one endpoint (a slow endpoint only delays itself). Each
   * is marked running until `finished`.
   */
  startDue(nowMs: number): Pending[] {
    const due = [...this.pending.values()]
      .filter((p) => p.dueAtMs <= nowMs)
      .sort((a, b) => a.dueAtMs - b.dueAtMs);
    const started: Pending[] = [];
    for (const p of due) {
      if (this.totalInFlight >= this.limits.total) break;
      if ((this.inFlight.get(p.endpointId) ?? 0) >= this.limits.perEndpoint) continue;
      this.pending.delete(p.id);
      this.running.add(p.id);
      this.totalInFlight++;
      this.inFlight.set(p.endpointId, (this.inFlight.get(p.endpointId) ?? 0) + 1);
      started.push(p);
    }
    return started;
  }

  finished(p: Pending): void {
    this.running.delete(p.id);
    this.totalInFlight--;
    this.inFlight.set(p.endpointId, (this.inFlight.get(p.endpointId) ?? 1) - 1);
  }

  get size(): { pending: number; running: number } {
    return { pending: this.pending.size, running: this.running.size };
  }
}

/** What an attempt's answer means: its outcome, when the next attempt is, whether the endpoint is gone. */
export interface AttemptDecision {
  outcome: AttemptedData['outcome'];
  nextAtMs: number | null;
  gone: boolean;
}

/**
 * The outcome of attempt `attempt` (from 1) answered `status` at `nowMs`: 2xx succeeded; 410
 * gave up and the endpoint is gone; anything else (0: no answer) is retried after
 * `scheduleMs[attempt]`, or gives up when the schedule has no more.
 */
export function decideAttempt(
  status: number,
  attempt: number,
  scheduleMs: readonly number[],
  nowMs: number,
): AttemptDecision {
  if (status >= 200 && status < 300) return { outcome: 'succeeded', nextAtMs: null, gone: false };
  if (status === 410) return { outcome: 'gave_up', nextAtMs: null, gone: true };
  const delay = scheduleMs[attempt];
  return delay === undefined
    ? { outcome: 'gave_up', nextAtMs: null, gone: false }
    : { outcome: 'failed', nextAtMs: nowMs + delay, gone: false };
}

/**
 * When an endpoint's current run of failures began: its first failed attempt after its last
 * success (null when its last attempt succeeded or it has none).
 */
export function failingSince(
  attempts: ReadonlyArray<{ attempted_at_ms: number; outcome: string }>,
): number | null {
  let since: number | null = null;
  for (const a of [...attempts].sort((x, y) => x.attempted_at_ms - y.attempted_at_ms)) {
    if (a.outcome === 'succeeded') since = null;
    else since ??= a.attempted_at_ms;
  }
  return since;
}

/** Whether a run of failures that began at `sinceMs` has lasted `disableAfterDays` at `nowMs`. */
export function failingTooLong(sinceMs: number, nowMs: number, disableAfterDays: number): boolean {
  return nowMs - sinceMs >= disableAfterDays * DAY_MS;
}
