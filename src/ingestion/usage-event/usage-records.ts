/**
 * The records of usage.events.v1 (contract §2, as issue 12 changes it).
 *
 * A record holds **events of one source** (an agent: its hosts' containers, whatever their
 * workspaces), as a CloudEvents batch (a JSON array), and is **keyed by the source**.
 * Several events per record: kafkajs's cost is per record, so one event per record capped the
 * pipeline near 50k events/s on this machine. Keyed by source: every copy of a `(source, id)`
 * — whatever `subject` a re-send gives it — lands in the partition of its source, so one
 * consumer at a time decides whether it is new (metering/README.md); and a host's tick is one
 * record even when its containers belong to many workspaces. A single event (a JSON object)
 * and records keyed by workspace, as earlier producers wrote them, are still valid: the
 * consumer produces their events again keyed by source.
 */

/** Events per record at most (a record is dead-lettered or re-routed event by event, not whole). */
export const MAX_EVENTS_PER_RECORD = 500;
/** Bytes per record at most: well under the usage topic's 2 MiB (and Kafka's default 1 MiB). */
export const MAX_RECORD_BYTES = 256 * 1024;

/** One event to pack: where it comes from and its JSON text. */
export interface PackableEvent {
  source: string;
  json: string;
}

/** A record to produce, and which of the caller's events it holds (in order). */
export interface PackedRecord {
  key: string;
  value: string;
  indexes: number[];
}

/**
 * Packs events into records: grouped by source in the order each source first appears, each
 * group cut into records of at most `maxEvents` events and `maxBytes` bytes, events in order.
 * An event that alone is larger than `maxBytes` is returned in `tooLarge` (the caller refuses
 * it), never packed. Pure.
 */
export function packUsageRecords(
  events: readonly PackableEvent[],
  maxBytes = MAX_RECORD_BYTES,
  maxEvents = MAX_EVENTS_PER_RECORD,
): { records: PackedRecord[]; tooLarge: number[] } {
  const groups = new Map<string, { source: string; indexes: number[] }>();
  const tooLarge: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    // Two bytes for the brackets of a record of one.
    if (Buffer.byteLength(e.json) + 2 > maxBytes) {
      tooLarge.push(i);
      continue;
    }
    let g = groups.get(e.source);
    if (!g) groups.set(e.source, (g = { source: e.source, indexes: [] }));
    g.indexes.push(i);
  }
  const records: PackedRecord[] = [];
  for (const { source, indexes } of groups.values()) {
    let parts: string[] = [];
    let members: number[] = [];
    let bytes = 2;
    const flush = () => {
      if (members.length === 0) return;
      records.push({ key: source, value: `[${parts.join(',')}]`, indexes: members });
      parts = [];
      members = [];
      bytes = 2;
    };
    for (const i of indexes) {
      const json = events[i].json;
      const length = Buffer.byteLength(json);
      if (members.length > 0 && (members.length >= maxEvents || bytes + 1 + length > maxBytes)) flush();
      bytes += (members.length > 0 ? 1 : 0) + length;
      parts.push(json);
      members.push(i);
    }
    flush();
  }
  return { records, tooLarge };
}
