import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseRfc3339Ms } from '../common/rfc3339';
import { ContainerObservation, SourceReading, UsageSource } from './usage-source';

export interface GpuDevice {
  index: number;
  uuid: string;
  name: string;
  /** The catalog's GPU type, or null for a model the catalog does not price. */
  gpuType: string | null;
}

export interface ComputeApp {
  gpuUuid: string;
  pid: number;
}

export const GPU_QUERY = [
  '--query-gpu=index,uuid,name,memory.total,utilization.gpu',
  '--format=csv,noheader,nounits',
];
export const APPS_QUERY = ['--query-compute-apps=gpu_uuid,pid,used_memory', '--format=csv,noheader,nounits'];

/** nvidia-smi model names → the catalog's GPU types. Order matters: the first match wins. */
const MODEL_PATTERNS: Array<[RegExp, string]> = [
  [/\bB200\b/i, 'B200'],
  [/\bH200\b/i, 'H200'],
  [/\bH100\b/i, 'H100'],
  [/\bA100\b.*\b80\s?GB\b/i, 'A100-80GB'],
  [/\bA100\b/i, 'A100-40GB'],
  [/\bL40S\b/i, 'L40S'],
  [/\bA10G\b/i, 'A10G'],
  [/\bL4\b/i, 'L4'],
  [/\bT4\b/i, 'T4'],
];

export function gpuTypeOfModel(name: string): string | null {
  for (const [pattern, type] of MODEL_PATTERNS) if (pattern.test(name)) return type;
  return null;
}

const csvLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

/** `nvidia-smi --query-gpu=…` output; a host without GPUs ("No devices were found") has none. */
export function parseGpuQuery(text: string): GpuDevice[] {
  if (/no devices were found/i.test(text)) return [];
  return csvLines(text).map((line) => {
    const [index, uuid, name] = line.split(',').map((f) => f.trim());
    if (!uuid?.startsWith('GPU-') || name === undefined)
      throw new Error(`unexpected nvidia-smi line: ${line}`);
    return { index: Number(index), uuid, name, gpuType: gpuTypeOfModel(name) };
  });
}

/** `nvidia-smi --query-compute-apps=…` output (empty when nothing runs). */
export function parseComputeApps(text: string): ComputeApp[] {
  if (/no running processes found/i.test(text)) return [];
  return csvLines(text).map((line) => {
    const [gpuUuid, pid] = line.split(',').map((f) => f.trim());
    return { gpuUuid, pid: Number(pid) };
  });
}

/**
 * The label file a host runtime writes for each container holding GPUs, one JSON file per
 * container in the labels folder (default /run/gpumeter/containers/<container_id>.json):
 *
 *   { "container_id": "ct_9f2c", "workspace_id": "ws_acme", "app_id": "app_llm",
 *     "function_id": "fn_generate", "gpu_uuids": ["GPU-5f3b…"], "started_at": "2026-…Z",
 *     "cpu_millicores": 4000, "memory_mib": 32768, "region": "us-east", "provider": "oci" }
 *
 * The contract (issue 10): the runtime writes `started_at` when it creates the label and, when
 * the container stops, writes `stopped_at` instead of deleting the file (each an RFC 3339
 * time or epoch milliseconds). The agent then bills exactly [started_at, stopped_at),
 * whatever its tick — also a container that started and stopped between two readings — and
 * deletes the file itself once the final interval is durable in its spool. A runtime that
 * only deletes the file still works, approximately: the container is closed at the first
 * reading that misses it (up to a tick late; one that lives between two readings is missed).
 * Write each version of a label atomically (a temporary file renamed into place): a file
 * caught half-written leaves its container as it was and is reported if it stays unreadable.
 * GPUs are attributed by UUID, which survives index renumbering.
 */
export interface ContainerLabel {
  container_id: string;
  workspace_id: string;
  app_id: string;
  function_id?: string;
  gpu_uuids: string[];
  started_at?: string | number;
  stopped_at?: string | number;
  cpu_millicores?: number;
  memory_mib?: number;
  region?: string;
  provider?: string;
}

const LABEL_TEXT = /^[\x21-\x7e]{1,256}$/;
const isText = (v: unknown) => typeof v === 'string' && LABEL_TEXT.test(v);
const isOptionalText = (v: unknown) => v === undefined || isText(v);
const isOptionalCount = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
const isOptionalTime = (v: unknown) => v === undefined || labelTimeMs(v) !== null;

/** A label time: RFC 3339 text or epoch milliseconds. */
export function labelTimeMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : null;
  return parseRfc3339Ms(v);
}

/** Why a parsed label file cannot be used (null: it can). A bad label skips its container only. */
export function refuseLabel(v: unknown): string | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const l = v as Record<string, unknown>;
  if (!isText(l.container_id)) return 'container_id is missing or invalid';
  if (!isText(l.workspace_id)) return 'workspace_id is missing or invalid';
  if (!isText(l.app_id)) return 'app_id is missing or invalid';
  if (!isOptionalText(l.function_id)) return 'function_id is invalid';
  if (!Array.isArray(l.gpu_uuids) || l.gpu_uuids.length === 0 || !l.gpu_uuids.every(isText))
    return 'gpu_uuids must be a non-empty list of GPU UUIDs';
  if (!isOptionalTime(l.started_at)) return 'started_at is invalid';
  if (!isOptionalTime(l.stopped_at)) return 'stopped_at is invalid';
  if (l.stopped_at !== undefined && l.started_at === undefined) return 'stopped_at needs started_at';
  if (l.stopped_at !== undefined && labelTimeMs(l.stopped_at)! < labelTimeMs(l.started_at)!)
    return 'stopped_at is before started_at';
  if (!isOptionalCount(l.cpu_millicores) || !isOptionalCount(l.memory_mib))
    return 'cpu_millicores and memory_mib must be whole numbers';
  if (!isOptionalText(l.region) || !isOptionalText(l.provider)) return 'region or provider is invalid';
  return null;
}

export type Run = (file: string, args: string[]) => Promise<string>;
const execFileAsync = promisify(execFile);
export const runCommand: Run = async (file, args) =>
  (await execFileAsync(file, args, { timeout: 10_000 })).stdout;

/**
 * Observations for the labelled containers whose GPUs are on this host. A GPU claimed by two
 * labels is billed once: to the container that started first (then the smaller id), and the
 * other label is reported and not billed for it.
 */
export function attribute(
  devices: GpuDevice[],
  labels: ContainerLabel[],
  warn: (m: string) => void,
  onConflict: () => void = () => undefined,
): ContainerObservation[] {
  const byUuid = new Map(devices.map((d) => [d.uuid, d]));
  // GPU → the container holding it and until when (null: still running). A label whose
  // container stopped before another started on the same GPU does not conflict with it.
  const claimedBy = new Map<string, { container: string; untilMs: number | null }>();
  const conflicts = (uuid: string, label: ContainerLabel) => {
    const claim = claimedBy.get(uuid);
    if (!claim || claim.container === label.container_id) return false;
    const startedAt = labelTimeMs(label.started_at);
    return claim.untilMs === null || startedAt === null || claim.untilMs > startedAt;
  };
  const ordered = [...labels].sort(
    (a, b) =>
      (labelTimeMs(a.started_at) ?? Infinity) - (labelTimeMs(b.started_at) ?? Infinity) ||
      (a.container_id < b.container_id ? -1 : a.container_id > b.container_id ? 1 : 0),
  );
  const out: ContainerObservation[] = [];
  for (const label of ordered) {
    const taken = label.gpu_uuids.filter((u) => conflicts(u, label));
    if (taken.length > 0) {
      onConflict();
      warn(
        `container ${label.container_id}: GPU ${taken.join(', ')} is already labelled for container ` +
          `${claimedBy.get(taken[0])!.container}; billed once, to that one`,
      );
    }
    const uuids = [...new Set(label.gpu_uuids)].filter((u) => !taken.includes(u));
    const gpus = uuids.map((u) => byUuid.get(u)).filter((d): d is GpuDevice => d !== undefined);
    if (gpus.length === 0) continue;
    const types = new Set(gpus.map((g) => g.gpuType));
    const [gpuType] = [...types];
    if (types.size !== 1 || gpuType === null) {
      warn(
        `container ${label.container_id}: GPUs of unpriced or mixed models (${gpus.map((g) => g.name).join(', ')}); not billed`,
      );
      continue;
    }
    for (const g of gpus)
      claimedBy.set(g.uuid, { container: label.container_id, untilMs: labelTimeMs(label.stopped_at) });
    const obs: ContainerObservation = {
      container_id: label.container_id,
      workspace_id: label.workspace_id,
      app_id: label.app_id,
      gpu_type: gpuType,
      gpu_count: gpus.length,
    };
    const started = labelTimeMs(label.started_at);
    if (started !== null) obs.started_at_ms = started;
    if (label.function_id !== undefined) obs.function_id = label.function_id;
    if (label.cpu_millicores !== undefined) obs.cpu_millicores = label.cpu_millicores;
    if (label.memory_mib !== undefined) obs.memory_mib = label.memory_mib;
    if (label.region !== undefined) obs.region = label.region;
    if (label.provider !== undefined) obs.provider = label.provider;
    out.push(obs);
  }
  return out;
}

/** What the source counts for the agent's /metrics. */
export interface LabelCounters {
  skipped: number;
  conflicts: number;
}

/** Reads GPUs with nvidia-smi and containers from the runtime's label files. */
export class NvidiaSmiUsageSource implements UsageSource {
  readonly counters: LabelCounters = { skipped: 0, conflicts: 0 };
  /** Label files of stopped containers, by container id, to delete once their usage is durable. */
  private readonly stoppedFiles = new Map<string, string>();
  /** Skipped files already reported (a bad file is reported once, not every tick). */
  private readonly reported = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly unparsedOnce = new Set<string>();

  constructor(
    private readonly labelsDir: string,
    private readonly warn: (m: string) => void,
    private readonly run: Run = runCommand,
  ) {}

  async read(_sinceMs = 0, nowMs = Date.now()): Promise<SourceReading> {
    let gpuText: string;
    try {
      gpuText = await this.run('nvidia-smi', GPU_QUERY);
    } catch (e) {
      const out = (e as { stdout?: string }).stdout ?? '';
      if (/no devices were found/i.test(out)) gpuText = out;
      else throw e;
    }
    const devices = parseGpuQuery(gpuText);
    const labels: Array<{ label: ContainerLabel; file: string }> = [];
    const unreadable: string[] = [];
    for (const f of (await readdir(this.labelsDir).catch(() => [] as string[])).sort()) {
      if (!f.endsWith('.json')) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(join(this.labelsDir, f), 'utf8'));
      } catch (e) {
        // Gone since the listing (the runtime deleted it): nothing to report.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        // Possibly caught mid-write: its container (named by the file) is left as it was, and
        // the file is reported only if it is still unreadable at the next reading.
        unreadable.push(f.slice(0, -'.json'.length));
        if (this.unparsedOnce.has(f)) this.skip(f, `unreadable: ${(e as Error).message}`);
        else this.unparsedOnce.add(f);
        continue;
      }
      this.unparsedOnce.delete(f);
      const refused = refuseLabel(parsed);
      if (refused) {
        this.skip(f, refused);
        continue;
      }
      this.reported.delete(f);
      labels.push({ label: parsed as ContainerLabel, file: f });
    }
    const observations = attribute(
      devices,
      labels.map((l) => l.label),
      (m) => {
        // A standing conflict is reported once, not at every reading.
        if (this.warned.has(m)) return;
        if (this.warned.size > 10_000) this.warned.clear();
        this.warned.add(m);
        this.warn(m);
      },
      () => this.counters.conflicts++,
    );
    const byId = new Map(labels.map((l) => [l.label.container_id, l]));
    const reading: SourceReading = { running: [], stopped: [], unreadable };
    for (const obs of observations) {
      const { label, file } = byId.get(obs.container_id)!;
      const stoppedAt = labelTimeMs(label.stopped_at);
      // A stop the agent's clock has not reached yet is still running: billed to stopped_at
      // at a later reading, never cut at now.
      if (stoppedAt === null || stoppedAt > nowMs) {
        reading.running.push(obs);
        continue;
      }
      reading.stopped.push({ container_id: obs.container_id, stopped_at_ms: stoppedAt, observation: obs });
      this.stoppedFiles.set(obs.container_id, file);
    }
    // Containers that vanish from the labels without stopped_at are closed by the accountant
    // at this reading (the approximate, delete-only contract).
    return reading;
  }

  /** The final intervals of these stopped containers are durable: their label files go. */
  async settle(containerIds: readonly string[]): Promise<void> {
    for (const id of containerIds) {
      const file = this.stoppedFiles.get(id);
      if (file === undefined) continue;
      await rm(join(this.labelsDir, file), { force: true });
      this.stoppedFiles.delete(id);
    }
  }

  private skip(file: string, why: string): void {
    this.counters.skipped++;
    if (this.reported.has(file)) return;
    this.reported.add(file);
    this.warn(`label file ${file} skipped (its container is not metered until it is fixed): ${why}`);
  }
}
