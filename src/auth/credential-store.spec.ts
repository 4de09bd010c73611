import { loadConfig } from '../app-config';
import { ApiError } from '../common/api-error';
import { CredentialStore } from './credential-store.service';
import { hashApiKey, newAgentToken, newWorkspaceApiKey } from './credentials';
import { CredentialRow, CredentialsRepository } from './credentials.repository';

/** The store against a counting stand-in for its repository: what costs I/O and what does not. */
function storeWith(rows: CredentialRow[], env: Record<string, string> = {}) {
  const calls = { active: 0 };
  const revoked = new Set<string>();
  const repository = {
    active: async () => {
      calls.active++;
      return { rows: rows.filter((r) => !revoked.has(r.credential_id)), revoked };
    },
  } as unknown as CredentialsRepository;
  const config = loadConfig({ ADMIN_API_KEY: 'operator-key-0123456789abcdef', ...env });
  return { store: new CredentialStore(config, repository), calls, revoked };
}

const statusOf = (f: () => unknown) => {
  try {
    f();
    return 200;
  } catch (e) {
    return (e as ApiError).status;
  }
};

describe('credential store', () => {
  const wsKey = newWorkspaceApiKey();
  const agentToken = newAgentToken();
  const rows: CredentialRow[] = [
    {
      credential_id: 'wk_0000000000000001',
      kind: 'workspace',
      workspace_id: 'ws_a',
      name: 'initial',
      sources: [],
      secret_hash: hashApiKey(wsKey),
      secret_prefix: wsKey.slice(0, 12),
      created_at_ms: 1,
      revoked_at_ms: null,
    },
    {
      credential_id: 'at_0000000000000001',
      kind: 'agent',
      workspace_id: '',
      name: 'host-17',
      sources: ['agent://host-17'],
      secret_hash: hashApiKey(agentToken),
      secret_prefix: agentToken.slice(0, 12),
      created_at_ms: 1,
      revoked_at_ms: null,
    },
  ];

  it('answers from memory: 10,000 guesses cost no lookup', async () => {
    const { store, calls } = storeWith(rows);
    await store.refresh();
    expect(calls.active).toBe(1);
    expect(store.authenticate(`Bearer ${wsKey}`)).toEqual({
      kind: 'workspace',
      workspaceId: 'ws_a',
      credentialId: 'wk_0000000000000001',
    });
    const agent = store.authenticate(`Bearer ${agentToken}`);
    expect(agent.kind === 'agent' && agent.sources?.covers('agent://host-17')).toBe(true);
    expect(agent.kind === 'agent' && agent.sources?.covers('agent://host-18')).toBe(false);
    for (let i = 0; i < 10_000; i++) {
      const guess = i % 2 === 0 ? newWorkspaceApiKey() : `not-a-key-${i}`;
      expect(statusOf(() => store.authenticate(`Bearer ${guess}`))).toBe(401);
    }
    expect(calls.active).toBe(1);
    expect(statusOf(() => store.authenticate(undefined))).toBe(401);
    expect(statusOf(() => store.authenticate('Basic abc'))).toBe(401);
  });

  it('refuses issued-shape tokens with 503 until loaded, never with a lookup per request', () => {
    const { store, calls } = storeWith(rows);
    expect(statusOf(() => store.authenticate(`Bearer ${wsKey}`))).toBe(503);
    expect(statusOf(() => store.authenticate('Bearer operator-key-0123456789abcdef'))).toBe(200);
    expect(calls.active).toBe(0);
  });

  it('a key made here works at once and survives a reload that does not have it yet; a revocation wins', async () => {
    const { store, revoked } = storeWith([]);
    await store.refresh();
    store.remember({ ...rows[0], revoked_at_ms: undefined } as unknown as CredentialRow);
    expect(statusOf(() => store.authenticate(`Bearer ${wsKey}`))).toBe(200);
    await store.refresh();
    expect(statusOf(() => store.authenticate(`Bearer ${wsKey}`))).toBe(200);
    revoked.add('wk_0000000000000001'); // revoked through another replica
    await store.refresh();
    expect(statusOf(() => store.authenticate(`Bearer ${wsKey}`))).toBe(401);
  });

  it('a key revoked here is refused at once, even while its projection still lists it', async () => {
    const { store } = storeWith(rows);
    await store.refresh();
    store.forget('wk_0000000000000001');
    expect(statusOf(() => store.authenticate(`Bearer ${wsKey}`))).toBe(401);
    await store.refresh();
    expect(statusOf(() => store.authenticate(`Bearer ${wsKey}`))).toBe(401);
  });

  it('INGEST_TOKENS with sources are bound to them; without, any source', async () => {
    const { store } = storeWith([], {
      INGEST_TOKENS: 'dev-token-0123456789,bound-token-0123456789=agent://host-*',
    });
    const dev = store.authenticate('Bearer dev-token-0123456789');
    expect(dev.kind === 'agent' && dev.sources).toBeNull();
    const bound = store.authenticate('Bearer bound-token-0123456789');
    expect(bound.kind === 'agent' && bound.sources?.covers('agent://host-3')).toBe(true);
    expect(bound.kind === 'agent' && bound.sources?.covers('agent://other')).toBe(false);
    expect(statusOf(() => store.authenticate('Bearer bound-token-0123456789=agent://host-*'))).toBe(401);
  });
});
