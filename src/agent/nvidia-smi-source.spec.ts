import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attribute,
  gpuTypeOfModel,
  NvidiaSmiUsageSource,
  parseComputeApps,
  parseGpuQuery,
} from './nvidia-smi-source';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', 'nvidia-smi', name), 'utf8');

describe('nvidia-smi parsing on recorded outputs', () => {
  it('an 8 × H100 host', () => {
    const gpus = parseGpuQuery(fixture('h100-8x.gpus.csv'));
    expect(gpus).toHaveLength(8);
    expect(new Set(gpus.map((g) => g.gpuType))).toEqual(new Set(['H100']));
    expect(gpus[3]).toEqual({
      index: 3,
      uuid: 'GPU-5f3b2a4e-1c0d-4e8f-9a7b-0c1d2e3f4a53',
      name: 'NVIDIA H100 80GB HBM3',
      gpuType: 'H100',
    });
    const apps = parseComputeApps(fixture('h100-8x.apps.csv'));
    expect(apps.filter((a) => a.pid === 48211)).toHaveLength(4);
  });

  it('a host with an A10G and a T4', () => {
    expect(parseGpuQuery(fixture('mixed-a10g-t4.gpus.csv')).map((g) => g.gpuType)).toEqual(['A10G', 'T4']);
    expect(parseComputeApps(fixture('mixed-a10g-t4.apps.csv')).map((a) => a.pid)).toEqual([3101, 3377]);
  });

  it('a host with no GPU', () => {
    expect(parseGpuQuery(fixture('no-gpu.gpus.txt'))).toEqual([]);
    expect(parseComputeApps(fixture('no-gpu.apps.csv'))).toEqual([]);
  });

  it('maps model names to catalog GPU types', () => {
    const names = fixture('a100-names.txt').trim().split('\n');
    expect(names.map(gpuTypeOfModel)).toEqual([
      'A100-80GB',
      'A100-80GB',
      'A100-40GB',
      'A100-40GB',
      'L4',
      'L40S',
      'H200',
      'B200',
      'H100',
      'T4',
      null,
    ]);
  });

  it('attributes GPUs to containers by the runtime’s label files', async () => {
    const labels = mkdtempSync(join(tmpdir(), 'labels-'));
    writeFileSync(
      join(labels, 'ct_train.json'),
      JSON.stringify({
        container_id: 'ct_train',
        workspace_id: 'ws_acme',
        app_id: 'app_llm',
        gpu_uuids: [
          'GPU-5f3b2a4e-1c0d-4e8f-9a7b-0c1d2e3f4a50',
          'GPU-5f3b2a4e-1c0d-4e8f-9a7b-0c1d2e3f4a51',
          'GPU-5f3b2a4e-1c0d-4e8f-9a7b-0c1d2e3f4a52',
          'GPU-5f3b2a4e-1c0d-4e8f-9a7b-0c1d2e3f4a53',
        ],
        started_at: '2026-11-27T10:00:00.000Z',
        memory_mib: 65536,
      }),
    );
    writeFileSync(
      join(labels, 'ct_elsewhere.json'),
      JSON.stringify({
        container_id: 'ct_elsewhere',
        workspace_id: 'ws_b',
        app_id: 'a',
        gpu_uuids: ['GPU-not-here'],
      }),
    );
    writeFileSync(join(labels, 'broken.json'), '{ not json');
    const warnings: string[] = [];
    const source = new NvidiaSmiUsageSource(
      labels,
      (m) => warnings.push(m),
      async (_file, args) =>
        args[0].startsWith('--query-gpu') ? fixture('h100-8x.gpus.csv') : fixture('h100-8x.apps.csv'),
    );
    const reading = await source.read();
    await source.read(); // a file unreadable twice in a row is reported (once may be mid-write)
    expect(reading.unreadable).toEqual(['broken']);
    expect(reading.running).toEqual([
      {
        container_id: 'ct_train',
        workspace_id: 'ws_acme',
        app_id: 'app_llm',
        gpu_type: 'H100',
        gpu_count: 4,
        started_at_ms: Date.UTC(2026, 10, 27, 10),
        memory_mib: 65536,
      },
    ]);
    expect(warnings.join()).toMatch(/broken\.json/);
  });

  it('refuses to bill a container on an unpriced GPU model, loudly', () => {
    const warnings: string[] = [];
    const devices = [{ index: 0, uuid: 'GPU-x', name: 'NVIDIA GeForce RTX 4090', gpuType: null }];
    expect(
      attribute(devices, [{ container_id: 'c', workspace_id: 'w', app_id: 'a', gpu_uuids: ['GPU-x'] }], (m) =>
        warnings.push(m),
      ),
    ).toEqual([]);
    expect(warnings[0]).toMatch(/unpriced/);
  });
});
