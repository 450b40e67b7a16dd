/**
 * What an ingest body may hold of the collector's memory. The slug that admits an upload is
 * public (it is inside every API key), so without these anyone could make the collector buffer
 * `maxBodyBytes` per request, as many requests as they open, for as long as they stall:
 *
 * - a global budget of buffered body bytes, shared by every upload in flight; an upload that
 *   does not fit is answered 503 with Retry-After before a byte of it is kept;
 * - a cap on one project's uploads in flight (429), so one slug cannot take the whole budget;
 * - an idle timeout: a body that sends nothing for `idleMs` is answered 408 and its connection
 *   closed (see body-reader.ts).
 *
 * A body with a Content-Length reserves it all at once: a stalled upload then holds exactly what
 * it said it would, and an upload that would not fit is refused before any RSA work. A chunked
 * body reserves as its chunks arrive. Every upload also reserves UPLOAD_OVERHEAD_BYTES for what
 * its connection holds besides the body (socket and parser buffers, the request's objects), so
 * that the budget bounds the memory uploads take, not only their bodies: 100 stalled 8 MiB
 * uploads against the 128 MiB default raised peak RSS by 129.5–129.9 MiB when only bodies were
 * counted.
 */

/** What one upload holds besides its body, charged to the budget with it. */
export const UPLOAD_OVERHEAD_BYTES = 64 * 1024;

export interface UploadLimits {
  /** Bytes of request bodies held at once, over every upload. */
  maxBufferedBytes: number;
  /** Uploads in flight for one project slug. */
  maxUploadsPerProject: number;
  /** A body that sends no byte for this long is refused. */
  idleMs: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = Object.freeze({
  maxBufferedBytes: 128 * 1024 * 1024,
  maxUploadsPerProject: 32,
  idleMs: 5000,
});

export type AdmitResult = { ok: true; upload: Upload } | { ok: false; reason: 'project-busy' | 'budget' };

/** One admitted upload: what it has reserved of the budget, given back once by `release()`. */
export interface Upload {
  /** Reserves `bytes` more of the budget; false (and nothing reserved) if they do not fit. */
  grow(bytes: number): boolean;
  readonly reserved: number;
  release(): void;
}

export class UploadAdmission {
  readonly limits: UploadLimits;
  #buffered = 0;
  readonly #perProject = new Map<string, number>();

  constructor(limits: UploadLimits = DEFAULT_UPLOAD_LIMITS) {
    for (const [name, value] of Object.entries(limits)) {
      if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`upload limit ${name} is ${value}: expected a whole number ≥ 1`);
    }
    this.limits = limits;
  }

  /** Bytes held now: bodies, and each upload's overhead. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Admits one upload for `slug`, reserving `bodyBytes` (its Content-Length, or 0) and its overhead. */
  admit(slug: string, bodyBytes: number): AdmitResult {
    const running = this.#perProject.get(slug) ?? 0;
    if (running >= this.limits.maxUploadsPerProject) return { ok: false, reason: 'project-busy' };
    const initialBytes = bodyBytes + UPLOAD_OVERHEAD_BYTES;
    if (!this.#fits(initialBytes)) return { ok: false, reason: 'budget' };
    this.#buffered += initialBytes;
    this.#perProject.set(slug, running + 1);
    return { ok: true, upload: this.#upload(slug, initialBytes) };
  }

  #fits(bytes: number): boolean {
    return this.#buffered + bytes <= this.limits.maxBufferedBytes;
  }

  #upload(slug: string, initialBytes: number): Upload {
    let reserved = initialBytes;
    let released = false;
    return {
      grow: (bytes: number): boolean => {
        if (released) throw new Error('grow() after release(): the upload is over');
        if (!this.#fits(bytes)) return false;
        this.#buffered += bytes;
        reserved += bytes;
        return true;
      },
      get reserved() {
        return reserved;
      },
      release: (): void => {
        if (released) return;
        released = true;
        this.#buffered -= reserved;
        const left = (this.#perProject.get(slug) ?? 1) - 1;
        if (left === 0) this.#perProject.delete(slug);
        else this.#perProject.set(slug, left);
      },
    };
  }
}
