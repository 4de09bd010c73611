import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { and, int, list, Sql, sql, str } from '../platform/clickhouse/sql';
import { StoredRows } from '../platform/clickhouse/stored-rows';
import { BillingEventPayloads } from '../platform/billing-events/billing-event';
import {
  AttemptedData,
  ENDPOINT_CHANGE_TYPES,
  EndpointChangeType,
  MessageCreatedData,
} from './webhook-events';

/** One stored endpoint change, its payload as the billing event that made it carried. */
export type EndpointChange = {
  [K in EndpointChangeType]: { type: K; at_ms: number; data: BillingEventPayloads[K] };
}[EndpointChangeType];

/** An endpoint as its changes leave it. */
export interface WebhookEndpoint {
  id: string;
  workspace_id: string | null;
  url: string;
  events: string[];
  description: string;
  secret: string; // sealed
  previous_secret: string | null; // sealed
  previous_valid_until_ms: number;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at_ms: number;
  /** When it was last enabled: its creation, or its latest re-enabling after a disable. */
  enabled_at_ms: number;
  deleted: boolean;
}

export interface EndpointChangeRow {
  endpoint_id: string;
  workspace_id: string;
  event_id: string;
  type: string;
  at_ms: number;
  data: string;
}

export interface MessageRow {
  id: string;
  endpoint_id: string;
  workspace_id: string;
  type: string;
  body: string;
  source_event_id: string;
  created_at_ms: number;
}

export interface AttemptRow {
  message_id: string;
  endpoint_id: string;
  attempt: number;
  attempted_at_ms: number;
  status_code: number;
  duration_ms: number;
  error: string;
  outcome: AttemptedData['outcome'];
  next_attempt_at_ms: number;
}

/** Folds an endpoint's changes, in time order, into its current state (undefined before it was created). */
export function foldEndpoint(changes: readonly EndpointChange[]): WebhookEndpoint | undefined {
  let e: WebhookEndpoint | undefined;
  for (const c of [...changes].sort((a, b) => a.at_ms - b.at_ms)) {
    if (c.type === 'webhook_endpoint.created') {
      const d = c.data;
      e = {
        id: d.id,
        workspace_id: d.workspace_id,
        url: d.url,
        events: d.events,
        description: d.description,
        secret: d.secret,
        previous_secret: null,
        previous_valid_until_ms: 0,
        status: 'enabled',
        disabled_reason: null,
        created_at_ms: c.at_ms,
        enabled_at_ms: c.at_ms,
        deleted: false,
      };
    } else if (!e) {
      continue;
    } else if (c.type === 'webhook_endpoint.secret_rotated') {
      const d = c.data;
      e = {
        ...e,
        secret: d.secret,
        previous_secret: d.previous_secret,
        previous_valid_until_ms: Date.parse(d.previous_valid_until),
      };
    } else if (c.type === 'webhook_endpoint.disabled') {
      const d = c.data;
      e = { ...e, status: 'disabled', disabled_reason: `${d.reason}: ${d.detail}` };
    } else if (c.type === 'webhook_endpoint.enabled') {
      if (e.status === 'disabled')
        e = { ...e, status: 'enabled', disabled_reason: null, enabled_at_ms: c.at_ms };
    } else if (c.type === 'webhook_endpoint.deleted') {
      e = { ...e, deleted: true };
    }
  }
  return e;
}

const MESSAGE_COLUMNS = sql`id, endpoint_id, workspace_id, type, body, source_event_id, toString(created_at_ms) AS created_at_ms`;

/** The webhook projections (migrations/0005): endpoint changes, messages, attempts. */
@Injectable()
export class WebhooksRepository {
  constructor(
    private readonly clickhouse: ClickHouseService,
    private readonly stored: StoredRows,
  ) {}

  async appendEndpointChanges(rows: readonly EndpointChangeRow[]): Promise<void> {
    await this.clickhouse.insert('webhook_endpoint_changes', rows);
  }

  async putMessages(rows: readonly (MessageCreatedData & { created_at_ms: number })[]): Promise<void> {
    await this.clickhouse.insert(
      'webhook_messages',
      rows.map((m) => ({
        id: m.message_id,
        endpoint_id: m.endpoint_id,
        workspace_id: m.workspace_id,
        type: m.type,
        body: m.body,
        source_event_id: m.source_event_id,
        partition: m.partition,
        created_at_ms: m.created_at_ms,
      })),
    );
  }

  async appendAttempts(rows: readonly (AttemptedData & { event_id: string })[]): Promise<void> {
    await this.clickhouse.insert(
      'webhook_attempts',
      rows.map((a) => ({
        message_id: a.message_id,
        endpoint_id: a.endpoint_id,
        attempt: a.attempt,
        attempted_at_ms: Date.parse(a.attempted_at),
        status_code: a.status_code,
        duration_ms: a.duration_ms,
        error: a.error,
        outcome: a.outcome,
        next_attempt_at_ms: a.next_attempt_at === null ? 0 : Date.parse(a.next_attempt_at),
        event_id: a.event_id,
      })),
    );
  }

  /** Endpoints (deleted ones left out), optionally one workspace's (null: operator endpoints) or one id. */
  async endpoints(filter: { workspaceId?: string | null; id?: string } = {}): Promise<WebhookEndpoint[]> {
    const where: Sql[] = [];
    if (filter.id !== undefined) where.push(sql`endpoint_id = ${str(filter.id)}`);
    if (filter.workspaceId !== undefined) where.push(sql`workspace_id = ${str(filter.workspaceId ?? '')}`);
    const rows = await this.clickhouse.query<EndpointChangeRow>(
      sql`SELECT endpoint_id, workspace_id, event_id, type, toString(at_ms) AS at_ms, data
          FROM webhook_endpoint_changes FINAL WHERE ${and(where)} ORDER BY endpoint_id, at_ms`,
    );
    const changes = this.stored.read(
      'webhook_endpoint_changes',
      rows,
      (r) => {
        const type = ENDPOINT_CHANGE_TYPES.find((t) => t === r.type);
        if (!type) return undefined; // written by a newer build: not read as some other change
        // Checked by the projection's `refuse` before it was stored.
        const change = {
          type,
          at_ms: Number(r.at_ms),
          data: JSON.parse(r.data) as unknown,
        } as EndpointChange;
        return { endpoint_id: r.endpoint_id, ...change };
      },
      (r) => r.event_id,
    );
    const byId = new Map<string, typeof changes>();
    for (const c of changes) byId.set(c.endpoint_id, [...(byId.get(c.endpoint_id) ?? []), c]);
    return [...byId.values()]
      .map((c) => foldEndpoint(c))
      .filter((e): e is WebhookEndpoint => e !== undefined && !e.deleted);
  }

  async message(id: string): Promise<MessageRow | undefined> {
    const rows = await this.clickhouse.query<MessageRow>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM webhook_messages FINAL WHERE id = ${str(id)}`,
    );
    return rows.map((r) => ({ ...r, created_at_ms: Number(r.created_at_ms) }))[0];
  }

  /** Attempts, oldest first: of one message, or of every message of an endpoint (newest messages first, at most `limit`). */
  async attempts(filter: { messageId?: string; endpointId?: string }): Promise<AttemptRow[]> {
    const where: Sql[] = [];
    if (filter.messageId !== undefined) where.push(sql`message_id = ${str(filter.messageId)}`);
    if (filter.endpointId !== undefined) where.push(sql`endpoint_id = ${str(filter.endpointId)}`);
    const rows = await this.clickhouse.query<Record<string, string>>(
      sql`SELECT message_id, endpoint_id, attempt, toString(attempted_at_ms) AS attempted_at_ms, status_code,
                 duration_ms, error, outcome, toString(next_attempt_at_ms) AS next_attempt_at_ms
          FROM webhook_attempts FINAL WHERE ${and(where)} ORDER BY attempted_at_ms, attempt`,
    );
    return rows.map((r) => ({
      message_id: r.message_id,
      endpoint_id: r.endpoint_id,
      attempt: Number(r.attempt),
      attempted_at_ms: Number(r.attempted_at_ms),
      status_code: Number(r.status_code),
      duration_ms: Number(r.duration_ms),
      error: r.error,
      outcome: r.outcome as AttemptRow['outcome'],
      next_attempt_at_ms: Number(r.next_attempt_at_ms),
    }));
  }

  /** The messages made for these endpoints from these billing events (what was sent where). */
  async messagesFrom(
    endpointIds: readonly string[],
    sourceEventIds: readonly string[],
  ): Promise<MessageRow[]> {
    if (endpointIds.length === 0 || sourceEventIds.length === 0) return [];
    const rows = await this.clickhouse.query<MessageRow>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM webhook_messages FINAL
          WHERE endpoint_id IN (${list(endpointIds.map(str))}) AND source_event_id IN (${list(sourceEventIds.map(str))})`,
    );
    return rows.map((r) => ({ ...r, created_at_ms: Number(r.created_at_ms) }));
  }

  /** An endpoint's messages, newest first. */
  async messages(endpointId: string, limit: number): Promise<MessageRow[]> {
    const rows = await this.clickhouse.query<MessageRow>(
      sql`SELECT ${MESSAGE_COLUMNS} FROM webhook_messages FINAL WHERE endpoint_id = ${str(endpointId)}
          ORDER BY created_at_ms DESC, id LIMIT ${int(limit)}`,
    );
    return rows.map((r) => ({ ...r, created_at_ms: Number(r.created_at_ms) }));
  }

  /**
   * Messages not yet settled (no `succeeded` or `gave_up` attempt) with their last attempt:
   * what a dispatcher resumes after a restart or when it takes over a partition.
   */
  async unsettled(): Promise<Array<MessageRow & { attempts: number; next_attempt_at_ms: number }>> {
    // Two plain queries rather than a JOIN: 18.16 and current versions differ on JOIN syntax.
    const settled = sql`SELECT message_id FROM webhook_attempts WHERE outcome IN ('succeeded', 'gave_up')`;
    const messages = await this.clickhouse.query<MessageRow>(sql`
      SELECT ${MESSAGE_COLUMNS} FROM webhook_messages FINAL WHERE id NOT IN (${settled})`);
    if (messages.length === 0) return [];
    const last = await this.clickhouse.query<{ message_id: string; attempts: string; next_at: string }>(sql`
      SELECT message_id, toString(max(attempt)) AS attempts, toString(argMax(next_attempt_at_ms, attempt)) AS next_at
      FROM webhook_attempts FINAL WHERE message_id NOT IN (${settled}) GROUP BY message_id`);
    const byId = new Map(last.map((l) => [l.message_id, l]));
    return messages.map((m) => ({
      ...m,
      created_at_ms: Number(m.created_at_ms),
      attempts: Number(byId.get(m.id)?.attempts ?? 0),
      next_attempt_at_ms: Number(byId.get(m.id)?.next_at ?? 0),
    }));
  }
}
