import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseRfc3339Ms } from '../ingestion/usage-event/rfc3339';
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
 * The runtime deletes the file when the container stops. GPUs are attributed by UUID, which
 * survives index renumbering.
 */
export interface ContainerLabel {
  container_id: string;
  workspace_id: string;
  app_id: string;
  function_id?: string;
  gpu_uuids: string[];
  started_at?: string;
  cpu_millicores?: number;
  memory_mib?: number;
  region?: string;
  provider?: string;
}

export type Run = (file: string, args: string[]) => Promise<string>;
const execFileAsync = promisify(execFile);
export const runCommand: Run = async (file, args) =>
  (await execFileAsync(file, args, { timeout: 10_000 })).stdout;

/** Observations for the labelled containers whose GPUs are on this host. */
export function attribute(
  devices: GpuDevice[],
  labels: ContainerLabel[],
  warn: (m: string) => void,
): ContainerObservation[] {
  const byUuid = new Map(devices.map((d) => [d.uuid, d]));
  const out: ContainerObservation[] = [];
  for (const label of labels) {
    const gpus = label.gpu_uuids.map((u) => byUuid.get(u)).filter((d): d is GpuDevice => d !== undefined);
    if (gpus.length === 0) continue;
    const types = new Set(gpus.map((g) => g.gpuType));
    const [gpuType] = [...types];
    if (types.size !== 1 || gpuType === null) {
      warn(
        `container ${label.container_id}: GPUs of unpriced or mixed models (${gpus.map((g) => g.name).join(', ')}); not billed`,
      );
      continue;
    }
    const obs: ContainerObservation = {
      container_id: label.container_id,
      workspace_id: label.workspace_id,
      app_id: label.app_id,
      gpu_type: gpuType,
      gpu_count: gpus.length,
    };
    const started = label.started_at ? parseRfc3339Ms(label.started_at) : null;
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

/** Reads GPUs with nvidia-smi and containers from the runtime's label files. */
export class NvidiaSmiUsageSource implements UsageSource {
  constructor(
    private readonly labelsDir: string,
    private readonly warn: (m: string) => void,
    private readonly run: Run = runCommand,
  ) {}

  async read(): Promise<SourceReading> {
    let gpuText: string;
    try {
      gpuText = await this.run('nvidia-smi', GPU_QUERY);
    } catch (e) {
      const out = (e as { stdout?: string }).stdout ?? '';
      if (/no devices were found/i.test(out)) gpuText = out;
      else throw e;
    }
    const devices = parseGpuQuery(gpuText);
    const labels: ContainerLabel[] = [];
    for (const f of await readdir(this.labelsDir).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      try {
        labels.push(JSON.parse(await readFile(join(this.labelsDir, f), 'utf8')) as ContainerLabel);
      } catch (e) {
        this.warn(`label file ${f} unreadable, skipped: ${(e as Error).message}`);
      }
    }
    // Containers that vanish from the labels are closed by the accountant at this reading.
    return { running: attribute(devices, labels, this.warn), stopped: [] };
  }
}
