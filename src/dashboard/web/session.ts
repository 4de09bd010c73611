import { ApiCallError, gpumeterClient, type GpumeterClient } from '../../api-client/client';

/**
 * The workspace key the user typed, kept for this tab only (sessionStorage), and the typed
 * client that reads the API with it (api-client/client.ts, generated from the OpenAPI
 * document): the page asks exactly what a customer's own tooling could.
 */
const KEY = 'gpumeter.workspace_key';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (key: string): void => sessionStorage.setItem(KEY, key),
  forget: (): void => sessionStorage.removeItem(KEY),
};

/** The API on this origin (absolute URLs: a Request is built from them), with the key signed in. */
export function api(): GpumeterClient {
  return gpumeterClient({ baseUrl: window.location.origin, token: session.key() ?? '' });
}

/** Thrown when the key was refused: the page signs out. */
export class KeyRefused extends Error {}

/** The data of an answer; a refused key is KeyRefused, any other failure names the API's message. */
export function answer<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  const status = result.response.status;
  if (status === 401 || status === 403) throw new KeyRefused('not signed in');
  if (result.response.ok && result.data !== undefined) return result.data;
  const message = (result.error as { error?: { message?: string } } | undefined)?.error?.message;
  throw new Error(message ?? `HTTP ${status}`, { cause: new ApiCallError(status, result.error, what) });
}
