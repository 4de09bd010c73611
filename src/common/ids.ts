/** A workspace id: lower-case letters, digits, `_` and `-`, starting with a letter or digit, ≤ 64. */
export const WORKSPACE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
