// The console's only door to the control plane: the public /v1 API, with the bearer token
// (when the server wants one) in a header, never in a URL. The token lives in
// sessionStorage: it survives a reload but not the closing of the tab.
import type { Problem } from './types.ts';

const TOKEN_KEY = 'baton.token';

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined, fallback: string) {
    super(problem ? problem.detail : fallback);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

export interface ApiClientOptions {
  /** Called on every 401: the token is missing, wrong or revoked. */
  readonly onUnauthorized: () => void;
  readonly storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined;
}

export class ApiClient {
  readonly #options: ApiClientOptions;
  #token: string | undefined;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    this.#token = options.storage?.getItem(TOKEN_KEY) ?? undefined;
  }

  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  setToken(token: string | undefined): void {
    this.#token = token;
    if (token === undefined) this.#options.storage?.removeItem(TOKEN_KEY);
    else this.#options.storage?.setItem(TOKEN_KEY, token);
  }

  /** Headers for a request; `extra` wins except over Authorization. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.#token !== undefined) headers['authorization'] = `Bearer ${this.#token}`;
    return headers;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.#json<T>('GET', path, undefined, signal);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.#json<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.#json<T>('PUT', path, body);
  }

  async delete(path: string): Promise<void> {
    const response = await fetch(path, {
      method: 'DELETE',
      headers: this.headers(),
    });
    if (!response.ok) throw await this.#failure(response);
  }

  /** The raw response of a successful request, for streams. Throws ApiError otherwise. */
  async open(path: string, extra: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const response = await fetch(path, {
      headers: this.headers(extra),
      signal: signal ?? null,
      cache: 'no-store',
    });
    if (!response.ok) throw await this.#failure(response);
    return response;
  }

  async #json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? null : JSON.stringify(body),
      signal: signal ?? null,
      cache: 'no-store',
    });
    if (!response.ok) throw await this.#failure(response);
    return (await response.json()) as T;
  }

  async #failure(response: Response): Promise<ApiError> {
    if (response.status === 401) this.#options.onUnauthorized();
    let problem: Problem | undefined;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        problem = (await response.json()) as Problem;
      } catch {
        problem = undefined;
      }
    }
    return new ApiError(response.status, problem, `${response.status} ${response.statusText}`.trim());
  }
}

/** A message for a person, from any failure of a request. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const hint = error.problem?.hint ? ` (${error.problem.hint})` : '';
    return `${error.message}${hint}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
