import { chReader } from './support/clickhouse';
import { api, createWorkspace } from './support/http';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, freePort, isolatedEnv } from './support/test-env';
import { generateEvents, waitFor } from './support/workload';

/**
 * Credentials and access (issue 10, findings 2, 4, 5, 6), against the real compiled service,
 * Kafka and ClickHouse: per-host agent tokens bound to sources, workspace key rotation and
 * revocation seen by every replica, one winner when two replicas create the same workspace,
 * rate limits, and who may read /metrics and /docs.
 */
describe('auth: credentials, replicas and limits (issue 10)', () => {
  let env: Record<string, string>;
  let first: ServiceProcess; // api + consumer + worker
  let second: ServiceProcess; // another api replica

  beforeAll(async () => {
    env = await isolatedEnv('auth');
    first = await new ServiceProcess('auth-all', env, 'all').start();
    second = await new ServiceProcess('auth-api2', env, 'api').start();
  });

  afterAll(async () => {
    await second?.kill();
    await first?.kill();
  });

  /** Milliseconds until `token` is answered `status` by GET /v1/me on `replica` (fails after 10 s). */
  async function untilStatus(replica: ServiceProcess, token: string, status: number): Promise<number> {
    const t0 = Date.now();
    await waitFor(
      `${replica.name} to answer ${status}`,
      async () => (await api(replica.url, 'GET', '/v1/me', token)).status,
      (s) => s === status,
      10_000,
    );
    return Date.now() - t0;
  }

  it('an agent token writes only its own sources: it cannot pre-empt another host’s interval ids', async () => {
    const wsKey = await createWorkspace(first.url, 'ws_agents');
    const made = await api(first.url, 'POST', '/v1/agent-tokens', ADMIN_KEY, {
      name: 'gpu-host-17',
      sources: ['agent://gpu-host-17', 'agent://rack-4/*'],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      name: 'gpu-host-17',
      sources: ['agent://gpu-host-17', 'agent://rack-4/*'],
    });
    const token: string = made.body.token;
    expect(token).toMatch(/^gpm_at_[A-Za-z0-9_-]{43}$/);

    // Only the operator manages them; a field is named when wrong.
    expect(
      (await api(first.url, 'POST', '/v1/agent-tokens', wsKey, { name: 'x', sources: ['a'] })).status,
    ).toBe(403);
    expect(
      (await api(first.url, 'POST', '/v1/agent-tokens', token, { name: 'x', sources: ['a'] })).status,
    ).toBe(403);
    const bad = await api(first.url, 'POST', '/v1/agent-tokens', ADMIN_KEY, { name: 'x', sources: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('sources');

    // The list shows no secret and no hash.
    const listed = await api(first.url, 'GET', '/v1/agent-tokens', ADMIN_KEY);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((t: { id: string }) => t.id)).toContain(made.body.id);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/[0-9a-f]{64}/);

    // The other replica knows the token within a reload.
    await untilStatus(second, token, 200);
    const end = Date.now() - 120_000;
    const event = (source: string, id: string, ms: number) => {
      const { events } = generateEvents({ count: 1, workspaces: ['ws_agents'], endBeforeMs: end, source });
      const e = events[0];
      e.id = id;
      e.data.started_at = new Date(end - ms).toISOString();
      e.data.ended_at = e.time = new Date(end).toISOString();
      e.data.gpu_count = 1;
      return e;
    };
    // host-17's token tries 1 ms events under host-18's predictable ids, and writes its own.
    const attack = await api(second.url, 'POST', '/v1/events', token, [
      event('agent://gpu-host-18', 'ct_victim:1700000000000', 1),
      event('agent://gpu-host-17', 'ct_mine:1', 7_300),
      event('agent://rack-4/node-2', 'ct_rack:1', 2_000),
    ]);
    expect(attack.status).toBe(202);
    expect(attack.body.accepted).toBe(2);
    expect(attack.body.rejected).toEqual([
      {
        index: 0,
        id: 'ct_victim:1700000000000',
        errors: [{ field: 'source', message: expect.stringContaining('agent://gpu-host-18') }],
      },
    ]);
    // host-18, with its own token, bills its real interval under that id.
    const host18 = await api(first.url, 'POST', '/v1/agent-tokens', ADMIN_KEY, {
      name: 'gpu-host-18',
      sources: ['agent://gpu-host-18'],
    });
    expect(
      (
        await api(first.url, 'POST', '/v1/events', host18.body.token, [
          event('agent://gpu-host-18', 'ct_victim:1700000000000', 60_000),
        ])
      ).body.accepted,
    ).toBe(1);
    const ch = chReader(env);
    try {
      const rows = await waitFor(
        'three stored events',
        () =>
          ch.all<{ source: string; gpu_ms: string }>(
            `SELECT source, gpu_ms FROM usage_events WHERE workspace_id = 'ws_agents' ORDER BY source`,
          ),
        (r) => r.length === 3,
        30_000,
      );
      expect(rows).toEqual([
        { source: 'agent://gpu-host-17', gpu_ms: '7300' },
        { source: 'agent://gpu-host-18', gpu_ms: '60000' },
        { source: 'agent://rack-4/node-2', gpu_ms: '2000' },
      ]);
    } finally {
      await ch.close();
    }

    // Revoked: 401 at once on the replica that revoked it, within 5 s on the other.
    expect((await api(second.url, 'DELETE', `/v1/agent-tokens/${made.body.id}`, ADMIN_KEY)).status).toBe(204);
    expect((await api(second.url, 'GET', '/v1/me', token)).status).toBe(401);
    const seenAfter = await untilStatus(first, token, 401);
    expect(seenAfter).toBeLessThan(5_000);
    const after = await api(first.url, 'GET', '/v1/agent-tokens', ADMIN_KEY);
    expect(after.body.data.find((t: { id: string }) => t.id === made.body.id).revoked_at).toEqual(
      expect.any(String),
    );
    expect((await api(first.url, 'DELETE', '/v1/agent-tokens/at_0000000000000000', ADMIN_KEY)).status).toBe(
      404,
    );
  });

  it('workspace keys rotate: a new key works beside the old one, a revoked key is 401 on every replica within 5 s', async () => {
    const oldKey = await createWorkspace(first.url, 'ws_rotate');
    const otherKey = await createWorkspace(first.url, 'ws_other');
    // Made on the first replica: the second knows the key within one credential reload.
    await untilStatus(second, oldKey, 200);
    const made = await api(second.url, 'POST', '/v1/workspaces/ws_rotate/keys', oldKey, { name: 'deploys' });
    expect(made.status).toBe(201);
    const newKey: string = made.body.api_key;
    expect(newKey).toMatch(/^gpm_ws_/);
    expect((await api(second.url, 'GET', '/v1/me', newKey)).body).toEqual({
      kind: 'workspace',
      workspace_id: 'ws_rotate',
    });
    await untilStatus(first, newKey, 200);
    expect((await api(first.url, 'GET', '/v1/me', oldKey)).status).toBe(200);

    const listed = await api(first.url, 'GET', '/v1/workspaces/ws_rotate/keys', newKey);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    expect(listed.body.data.map((k: { name: string }) => k.name)).toEqual(['initial', 'deploys']);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(newKey);
    expect(text).not.toContain(oldKey);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    // Another workspace's key sees nothing of it.
    expect((await api(first.url, 'GET', '/v1/workspaces/ws_rotate/keys', otherKey)).status).toBe(404);
    const initial = listed.body.data.find((k: { name: string }) => k.name === 'initial');
    expect(
      (await api(first.url, 'DELETE', `/v1/workspaces/ws_rotate/keys/${initial.id}`, otherKey)).status,
    ).toBe(404);

    expect(
      (await api(first.url, 'DELETE', `/v1/workspaces/ws_rotate/keys/${initial.id}`, newKey)).status,
    ).toBe(204);
    expect((await api(first.url, 'GET', '/v1/me', oldKey)).status).toBe(401);
    expect(await untilStatus(second, oldKey, 401)).toBeLessThan(5_000);
    expect((await api(second.url, 'GET', '/v1/me', newKey)).status).toBe(200);
    // A service started afterwards loads the same: the new key, not the revoked one.
    const third = await new ServiceProcess('auth-api3', env, 'api').start();
    try {
      expect((await api(third.url, 'GET', '/v1/me', newKey)).status).toBe(200);
      expect((await api(third.url, 'GET', '/v1/me', oldKey)).status).toBe(401);
    } finally {
      await third.kill();
    }
  });

  it('two replicas creating the same workspace at once: exactly one 201, the other 409, and the stored key is the winner’s', async () => {
    const ch = chReader(env);
    let contested = 0;
    for (let round = 0; round < 6; round++) {
      const id = `ws_race_${round}`;
      const body = (n: number) => ({ id, name: `Race ${n}`, email: `r${n}@example.test` });
      const answers = await Promise.all([
        api(first.url, 'POST', '/v1/workspaces', ADMIN_KEY, body(1)),
        api(second.url, 'POST', '/v1/workspaces', ADMIN_KEY, body(2)),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      const winner = answers.find((a) => a.status === 201)!;
      const loser = answers.find((a) => a.status === 409)!;
      expect(loser.body.error.details).toEqual([{ field: 'id', message: 'already exists' }]);
      // The winner's key works everywhere; the workspace is the winner's.
      for (const replica of [first, second]) await untilStatus(replica, winner.body.api_key, 200);
      const got = await api(first.url, 'GET', `/v1/workspaces/${id}`, ADMIN_KEY);
      expect(got.body.name).toBe(winner.body.name);
      // Whether both creations got past the existence check and were published: a real race.
      const published = await ch.one<{ n: string }>(
        `SELECT count() AS n FROM billing_events FINAL WHERE type = 'workspace.created' AND workspace_id = '${id}'`,
      );
      if (Number(published.n) === 2) contested++;
    }
    await ch.close();
    expect(contested).toBeGreaterThan(0);
  });

  it('a token of the wrong shape or an unknown one is 401; a route answers only who it declares', async () => {
    for (const token of ['nope', 'gpm_ws_short', `gpm_ws_${'A'.repeat(43)}`, `gpm_at_${'b'.repeat(43)}`]) {
      expect((await api(first.url, 'GET', '/v1/me', token)).status).toBe(401);
    }
    expect((await api(first.url, 'GET', '/v1/usage?workspace_id=ws_agents', null)).status).toBe(401);
    expect((await api(first.url, 'GET', '/healthz', null)).status).toBe(200);
  });

  it('rate limits: per credential, and failed authentications per address, with 429 and Retry-After', async () => {
    const limited = await new ServiceProcess('auth-limited', env, 'api').start({
      RATE_LIMIT_PER_CREDENTIAL_PER_SECOND: '5',
      AUTH_FAILURES_PER_MINUTE: '3',
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${limited.url}/v1/me`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 200).length).toBe(5);
      expect(statuses.filter((s) => s === 429).length).toBe(7);
      const refused = answers.find((a) => a.status === 429)!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');

      const guesses = [];
      for (let i = 0; i < 5; i++)
        guesses.push((await api(limited.url, 'GET', '/v1/me', `gpm_ws_${String(i).repeat(43)}`)).status);
      expect(guesses).toEqual([401, 401, 401, 429, 429]);
      const blocked = await fetch(`${limited.url}/v1/me`, { headers: { authorization: 'Bearer guess' } });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(30);
      // A valid credential from the same address still works (the address may be a NAT).
      const agentKey = await api(limited.url, 'GET', '/v1/me', env.INGEST_TOKENS);
      expect(agentKey.status).toBe(200);
    } finally {
      await limited.kill();
    }
  });

  it('/metrics and /docs: the operator key on the main port, or only the metrics port when one is set', async () => {
    expect((await fetch(`${first.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${first.url}/docs`)).status).toBe(401);
    expect(
      (await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status,
    ).toBe(200);

    const metricsPort = await freePort();
    const split = await new ServiceProcess('auth-metrics-port', env, 'api').start({
      METRICS_PORT: String(metricsPort),
    });
    try {
      const ops = `http://127.0.0.1:${metricsPort}`;
      expect(
        (await fetch(`${split.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status,
      ).toBe(404);
      expect((await fetch(`${split.url}/docs`)).status).toBe(404);
      const metrics = await fetch(`${ops}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('gpumeter_');
      expect((await fetch(`${ops}/docs-json`)).status).toBe(200);
      expect((await fetch(`${ops}/healthz`)).status).toBe(200);
      // The metrics port serves nothing else.
      expect(
        (await fetch(`${ops}/v1/me`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status,
      ).toBe(404);
      expect((await api(split.url, 'GET', '/v1/me', ADMIN_KEY)).status).toBe(200);
    } finally {
      await split.kill();
    }
  });
});
