/**
 * Billing events that create and revoke credentials (issue 10). Each carries the SHA-256 of
 * the secret, never the secret. Workspace keys have the workspace as subject; agent tokens
 * the system subject.
 */

export interface WorkspaceKeyCreatedData {
  key_id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
}

export interface WorkspaceKeyRevokedData {
  key_id: string;
}

export interface AgentTokenCreatedData {
  token_id: string;
  name: string;
  sources: string[];
  token_hash: string;
  token_prefix: string;
}

export interface AgentTokenRevokedData {
  token_id: string;
}
