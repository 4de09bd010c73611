import { Static, Type } from '@sinclair/typebox';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { Matching, Text } from '../platform/billing-events/payload-schema';
import { MAX_SOURCE_PATTERNS, SOURCE_PATTERN } from './source-patterns';

/**
 * Billing events that create and revoke credentials (issue 10). Each carries the SHA-256 of
 * the secret, never the secret. Workspace keys have the workspace as subject; agent tokens
 * the system subject.
 */
const SHA256_HEX = /^[0-9a-f]{64}$/;
const CREDENTIAL_ID = /^(wk|at)_[0-9a-f]{16}$/;

export const WorkspaceKeyCreatedData = Type.Object({
  key_id: Matching(CREDENTIAL_ID),
  name: Text(200),
  key_hash: Matching(SHA256_HEX),
  key_prefix: Text(64),
});
export type WorkspaceKeyCreatedData = Static<typeof WorkspaceKeyCreatedData>;

export const WorkspaceKeyRevokedData = Type.Object({ key_id: Matching(CREDENTIAL_ID) });
export type WorkspaceKeyRevokedData = Static<typeof WorkspaceKeyRevokedData>;

export const AgentTokenCreatedData = Type.Object({
  token_id: Matching(CREDENTIAL_ID),
  name: Text(200),
  sources: Type.Array(Matching(SOURCE_PATTERN), { minItems: 1, maxItems: MAX_SOURCE_PATTERNS }),
  token_hash: Matching(SHA256_HEX),
  token_prefix: Text(64),
});
export type AgentTokenCreatedData = Static<typeof AgentTokenCreatedData>;

export const AgentTokenRevokedData = Type.Object({ token_id: Matching(CREDENTIAL_ID) });
export type AgentTokenRevokedData = Static<typeof AgentTokenRevokedData>;

export const CREDENTIAL_EVENTS = defineBillingEvents({
  'workspace.key_created': WorkspaceKeyCreatedData,
  'workspace.key_revoked': WorkspaceKeyRevokedData,
  'agent_token.created': AgentTokenCreatedData,
  'agent_token.revoked': AgentTokenRevokedData,
});

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof CREDENTIAL_EVENTS> {}
}
