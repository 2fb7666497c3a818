// The CLI's HTTP client. Turns transport failures and problem+json answers into messages
// a person can act on, and into the CLI's exit codes.
import type { Problem } from '../../domain/problems.ts';
import { CliExit, EXIT } from './exit-codes.ts';
import { printProblems, type Output } from './output.ts';

export interface ClientOptions {
  /** A control plane's URL, or several replicas' separated by commas: tried in turn. */
  readonly server: string;
  readonly token: string | undefined;
  readonly out: Output;
}

interface ProblemJson {
  code?: string;
  title?: string;
  detail?: string;
  hint?: string;
  problems?: Problem[];
  breaks?: { message: string }[];
}

export class ApiClient {
  readonly #servers: readonly string[];
  /** The replica that answered last: asked first next time. */
  #current = 0;
  readonly #token: string | undefined;
  readonly #out: Output;

  constructor(options: ClientOptions) {
    this.#servers = controlPlaneUrls(options.server);
    this.#token = options.token;
    this.#out = options.out;
  }

  /** The replica in use. */
  get server(): string {
    return this.#servers[this.#current]!;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  async text(path: string): Promise<string> {
    const response = await this.#fetch('GET', path);
    if (!response.ok) await this.#fail(response);
    return response.text();
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#fetch(method, path, body);
    if (!response.ok) await this.#fail(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** The raw response, for streams. */
  async stream(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const response = await this.#fetch('GET', path, undefined, headers, signal);
    if (!response.ok) await this.#fail(response);
    return response;
  }

  async #fetch(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.#token) headers['authorization'] = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const failures: string[] = [];
    for (let tried = 0; tried < this.#servers.length; tried++) {
      const server = this.server;
      try {
        return await fetch(server + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ?? null,
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        failures.push(`${server} (${cause?.code ?? cause?.message ?? String(error)})`);
        // Another replica, unless a write may have reached this one: only a refused
        // connection proves it did not, and a read may always be asked again.
        if (method !== 'GET' && cause?.code !== 'ECONNREFUSED') break;
        this.#current = (this.#current + 1) % this.#servers.length;
      }
    }
    this.#out.error(`baton: cannot reach the Baton server at ${failures.join(', ')}`);
    this.#out.error(
      `  hint: start one with \`baton server\` or \`baton up\`, or point --server / BATON_SERVER at it (several replicas: comma-separated)`,
    );
    throw new CliExit(EXIT.unavailable);
  }

  async #fail(response: Response): Promise<never> {
    let problem: ProblemJson = {};
    try {
      problem = (await response.json()) as ProblemJson;
    } catch {
      // Not problem+json (a proxy, perhaps): the status line is all there is.
    }
    const out = this.#out;
    if (problem.problems?.length) printProblems(out, problem.problems);
    out.error(
      `baton: ${problem.detail ?? `${response.status} ${response.statusText}`}${problem.code ? ` (${problem.code})` : ''}`,
    );
    for (const b of problem.breaks ?? []) out.error(`  ${b.message}`);
    if (problem.hint) out.error(`  hint: ${problem.hint}`);
    throw new CliExit(response.status >= 500 ? EXIT.unavailable : EXIT.invalid);
  }
}

/** `--server` / BATON_SERVER: one URL, or replicas' URLs separated by commas. */
export function controlPlaneUrls(spec: string): string[] {
  return spec
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter((url) => url !== '');
}
