import { appendFile, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageCloudEvent } from '../ingestion/usage-event/usage-event';
import { AgentClock } from './clock';
import { EventSender } from './event-sender';
import { IntervalAccountant } from './interval-accountant';
import { PRIVATE_FILE, Spool, SpoolFullError, writeJsonAtomically } from './spool';
import { UsageSource } from './usage-source';

export interface WorkerAgentOptions {
  /** CloudEvents `source` of this agent, e.g. agent://gpu-host-17. */
  source: string;
  intervalMs: number;
  spoolDir: string;
  spoolMaxBytes: number;
  /** How often the agent reads its usage source (real ms). */
  tickMs: number;
  sendBatch: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface Checkpoint {
  /** End of the last emitted interval per open container. */
  containers: Record<string, number>;
  /** Agent time of the last reading of the source. */
  readUpTo: number | null;
}

export interface AgentStatus {
  running_containers: number;
  spool_depth: number;
  spool_bytes: number;
  held_in_memory: number;
  last_successful_send: string | null;
  last_send_error: string | null;
  events_emitted: number;
  events_sent: number;
}

/** refused.jsonl's bound: beyond it, it becomes refused.jsonl.1 (the one before is dropped). */
export const REFUSED_MAX_BYTES = 8 * 1024 * 1024;

/** Appends refused events to refused.jsonl (0600), rotating it at REFUSED_MAX_BYTES. */
export async function keepRefused(
  spoolDir: string,
  lines: string,
  maxBytes = REFUSED_MAX_BYTES,
): Promise<void> {
  const path = join(spoolDir, 'refused.jsonl');
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size > 0 && size + Buffer.byteLength(lines) > maxBytes) await rename(path, `${path}.1`);
  await appendFile(path, lines, { mode: PRIVATE_FILE });
}

/**
 * The worker agent: reads a usage source every tick, turns it into interval events,
 * spools them durably, and sends them in order until acknowledged. Sending runs on its own
 * loop so that accounting never waits for Kafka; while Kafka is away the spool grows (to its
 * bound; beyond it events wait in memory, loudly) and drains in order when it returns.
 */
export class WorkerAgent {
  private accountant!: IntervalAccountant;
  private spool!: Spool;
  private readUpTo: number | null = null;
  private stopping = false;
  private heldInMemory: UsageCloudEvent[] = [];
  private ledger = new Map<string, Map<string, bigint>>();
  private lastSendOk: number | null = null;
  private lastSendError: string | null = null;
  private emitted = 0;
  private sent = 0;
  private senderLoop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly options: WorkerAgentOptions,
    private readonly usage: UsageSource,
    private readonly sender: EventSender,
    private readonly clock: AgentClock,
  ) {}

  private get checkpointPath(): string {
    return join(this.options.spoolDir, 'checkpoint.json');
  }

  async start(): Promise<void> {
    this.spool = await Spool.open(this.options.spoolDir, {
      maxBytes: this.options.spoolMaxBytes,
      segmentBytes: 16 * 1024 * 1024,
      warn: (m) => this.options.log('warn', m),
    });
    let checkpoint: Checkpoint = { containers: {}, readUpTo: null };
    try {
      checkpoint = JSON.parse(await readFile(this.checkpointPath, 'utf8')) as Checkpoint;
    } catch {
      /* first start */
    }
    this.readUpTo = checkpoint.readUpTo;
    this.accountant = new IntervalAccountant(
      this.options.source,
      this.options.intervalMs,
      new Map(Object.entries(checkpoint.containers)),
    );
    if (this.spool.depth > 0)
      this.options.log('info', `resuming with ${this.spool.depth} unsent event(s) in the spool`);
    this.senderLoop = this.runSender();
  }

  /** One reading of the source: account, spool, checkpoint. */
  async tick(): Promise<void> {
    const now = this.clock.nowMs();
    const reading = await this.usage.read(this.readUpTo ?? now - 1, now);
    const events = this.accountant.observe(reading, now);
    await this.persist(events, now);
    if (this.heldInMemory.length === 0 && reading.stopped.length > 0)
      await this.usage.settle?.(reading.stopped.map((s) => s.container_id));
  }

  private persisting: Promise<void> = Promise.resolve();

  /** Spool and checkpoint, one call at a time (ticks and the sender's catch-up may overlap). */
  private persist(events: UsageCloudEvent[], now: number): Promise<void> {
    const run = this.persisting.then(() => this.persistNow(events, now));
    this.persisting = run.catch(() => undefined);
    return run;
  }

  private async persistNow(events: UsageCloudEvent[], now: number): Promise<void> {
    for (const e of events) this.count(e);
    this.heldInMemory.push(...events);
    if (this.heldInMemory.length > 0) {
      try {
        await this.spool.append(this.heldInMemory.map((e) => JSON.stringify(e)));
        this.heldInMemory = [];
      } catch (e) {
        if (!(e instanceof SpoolFullError)) throw e;
        this.options.log(
          'error',
          `${e.message}; ${this.heldInMemory.length} event(s) held in memory until it drains`,
        );
      }
      await this.spool.sync();
    }
    // Written after the spool is durable: a crash in between re-emits intervals with the
    // same ids (billed once), never skips one.
    this.readUpTo = now;
    await writeJsonAtomically(this.checkpointPath, {
      containers: Object.fromEntries(this.accountant.checkpoint()),
      readUpTo: now,
    } satisfies Checkpoint);
    this.wake?.();
  }

  private count(e: UsageCloudEvent): void {
    this.emitted++;
    const ms = BigInt(e.data.gpu_count) * BigInt(Date.parse(e.data.ended_at) - Date.parse(e.data.started_at));
    const perType = this.ledger.get(e.subject) ?? new Map<string, bigint>();
    perType.set(e.data.gpu_type, (perType.get(e.data.gpu_type) ?? 0n) + ms);
    this.ledger.set(e.subject, perType);
  }

  private async runSender(): Promise<void> {
    let backoff = 200;
    while (!this.stopping || this.spool.depth > 0) {
      const batch = this.spool.peek(this.options.sendBatch);
      if (batch.length === 0) {
        if (this.stopping) return;
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 500);
        });
        continue;
      }
      try {
        const payloads = batch.map((r) => r.payload);
        const refused = await this.sender.send(payloads);
        if (refused.length > 0) {
          // Refused as invalid: it would be refused forever. Kept beside the spool, loudly.
          await keepRefused(this.options.spoolDir, refused.map((i) => `${payloads[i]}\n`).join(''));
          this.options.log(
            'error',
            `${refused.length} event(s) refused by the receiver; kept in refused.jsonl`,
          );
        }
        await this.spool.acknowledge(batch.length);
        this.sent += batch.length;
        this.lastSendOk = Date.now();
        this.lastSendError = null;
        backoff = 200;
        if (this.heldInMemory.length > 0) await this.persist([], this.clock.nowMs());
      } catch (e) {
        const message = (e as Error).message;
        if (this.lastSendError === null)
          this.options.log('warn', `send failed, spooling and retrying: ${message}`);
        this.lastSendError = message;
        if (this.stopping && this.drainDeadline !== null && Date.now() > this.drainDeadline) return;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  private drainDeadline: number | null = null;

  /**
   * Closes every open interval now, spools it, and tries to deliver what is spooled for up
   * to `drainMs`; whatever is left stays in the spool for the next start.
   */
  async stop(drainMs = 30_000): Promise<void> {
    const now = this.clock.nowMs();
    await this.persist(this.accountant.closeAll(now), now);
    this.drainDeadline = Date.now() + drainMs;
    this.stopping = true;
    this.wake?.();
    await this.senderLoop;
    await this.sender.close();
    await this.spool.close();
  }

  status(): AgentStatus {
    return {
      running_containers: this.accountant?.openContainers ?? 0,
      spool_depth: this.spool?.depth ?? 0,
      spool_bytes: this.spool?.bytesOnDisk ?? 0,
      held_in_memory: this.heldInMemory.length,
      last_successful_send: this.lastSendOk ? new Date(this.lastSendOk).toISOString() : null,
      last_send_error: this.lastSendError,
      events_emitted: this.emitted,
      events_sent: this.sent,
    };
  }

  /** GPU-ms emitted by this run, per workspace and GPU type. */
  ledgerJson(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [ws, types] of [...this.ledger].sort()) {
      out[ws] = Object.fromEntries([...types].sort().map(([t, ms]) => [t, ms.toString()]));
    }
    return out;
  }
}
