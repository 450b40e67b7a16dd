/** The query API over fetch, with the key as a Bearer token on every request. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint: string | null,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

export type Params = Record<string, string | number | null | undefined>;

export class Api {
  readonly #key: string;
  readonly #onUnauthorized: (error: ApiError) => void;

  constructor(key: string, onUnauthorized: (error: ApiError) => void) {
    this.#key = key;
    this.#onUnauthorized = onUnauthorized;
  }

  get<T>(path: string, params: Params = {}): Promise<T> {
    const url = new URL(path, location.origin);
    for (const [name, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    return this.#request<T>(url, { method: 'GET', cache: 'no-store' });
  }

  /** The one change the query API takes (an issue's status); the answer is the changed resource. */
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.#request<T>(new URL(path, location.origin), { method: 'PATCH', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  async #request<T>(url: URL, init: RequestInit & { headers?: Record<string, string> }): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${this.#key}`, accept: 'application/json' } });
    } catch {
      throw new ApiError(0, 'The collector did not answer.', 'Check that it is still running; the page retries on its own.');
    }
    const body = (await response.json().catch(() => null)) as unknown;
    if (response.ok) return body as T;
    const detail = body as { error?: unknown; hint?: unknown } | null;
    const error = new ApiError(
      response.status,
      typeof detail?.error === 'string' ? detail.error : `The collector answered ${response.status}.`,
      typeof detail?.hint === 'string' ? detail.hint : null,
      Number(response.headers.get('retry-after')) || null,
    );
    if (response.status === 401) this.#onUnauthorized(error);
    throw error;
  }
}
