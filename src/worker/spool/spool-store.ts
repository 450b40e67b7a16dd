/**
 * The spool directory: sealed batches that could not be delivered, one file each
 * (spool-record.ts), kept until a process of the same project sends them.
 *
 * - Writes are crash-safe: a temporary file (0600) is written, fsynced and only then renamed to
 *   its `.tsp` name, so a file under that name is always whole; a process killed mid-write
 *   leaves a temporary file, which is never sent and is removed once its writer is gone.
 * - Several processes may share the directory (a cluster, `teracron run` children). A file is
 *   taken for sending by renaming it to `<name>.claimed-<pid>-<token>`: a rename succeeds for
 *   one process only, so no file is sent twice at once. A claim whose process is gone (killed
 *   while sending) is put back for the others.
 * - At most `maxBytes` are kept: to make room, the oldest files are deleted and what they held
 *   is reported, so the caller counts exactly what the spool dropped.
 * - The directory is 0700 and files 0600: envelopes are encrypted, but their sizes and times
 *   still say something about the application.
 *
 * Every method reports failures as values (or rethrows nothing the caller must catch): a spool
 * that cannot be written (disk full, read-only, not a directory) must never become an exception
 * in the application; the caller counts a drop and says why.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSpoolRecord, encodeSpoolRecord, parseSpoolName, spoolFileName } from './spool-record';
import type { SpoolEntry, SpoolKind, SpoolName } from './spool-record';

export interface SpoolStoreOptions {
  dir: string;
  maxBytes: number;
  /** For tests: whether a pid is a live process (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  now?: () => number;
}

/** What was deleted to make room: counted by the caller as dropped because the spool was full. */
export interface Evicted {
  files: number;
  bytes: number;
  items: Record<SpoolKind, number>;
}

export type SpoolWriteResult =
  | { ok: true; name: string; bytes: number; evicted: Evicted }
  | { ok: false; why: string; evicted: Evicted };

export interface ClaimedBatch {
  entry: SpoolEntry;
  name: SpoolName;
  /** The file's size on disk. */
  bytes: number;
  /** Where the file is while claimed. */
  claimedPath: string;
}

/** A file that failed its checks: moved aside (`<name>.corrupt`), never sent. */
export interface CorruptFile {
  name: SpoolName;
  why: string;
}

/**
 * Writes between two listings of the directory. In between, the spool's size is this process's
 * estimate (its last listing plus its own writes): other processes' writes are seen at the next
 * listing, and a write that would pass maxBytes always lists first.
 */
const WRITES_PER_LISTING = 16;
const CLAIM = /^(.+\.tsp)\.claimed-(\d+)-([0-9a-f]+)$/;
const TEMPORARY = /^\.tmp-(\d+)-([0-9a-f]+)-\d+$/;

export class SpoolStore {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #pid = process.pid;
  /** Tells this store's claims and temporary files from an earlier worker's in the same process. */
  readonly #token = randomBytes(4).toString('hex');
  readonly #isAlive: (pid: number) => boolean;
  readonly #now: () => number;
  #seq = 0;
  #dirReady = false;
  /** Bytes in the directory as of the last listing plus this store's writes since; null: list again. */
  #knownBytes: number | null = null;
  #writesSinceListing = 0;
  /** The last write queued: each waits for the one before (#writeFile never rejects). */
  #writing: Promise<unknown> = Promise.resolve();
  /** Files moved aside since this store was made. */
  readonly corrupt: CorruptFile[] = [];

  constructor(options: SpoolStoreOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.#isAlive = options.isAlive ?? isAlive;
    this.#now = options.now ?? Date.now;
  }

  /** The spool's size as this store last knew it (a listing plus its own writes since); null before any. */
  get knownBytes(): number | null {
    return this.#knownBytes;
  }

  /**
   * Writes one sealed batch, deleting the oldest files first if it would not fit. The batch is
   * copied before this returns (its buffer may be reused at once); the writes themselves go one
   * at a time, so that each makes room knowing what the ones before it wrote (two at once each
   * made room for itself alone and together passed maxBytes).
   */
  write(entry: SpoolEntry): Promise<SpoolWriteResult> {
    const bytes = encodeSpoolRecord(entry);
    const name = spoolFileName(this.#now(), this.#pid, this.#seq, entry.kind, entry.items);
    const temporary = join(this.dir, `.tmp-${this.#pid}-${this.#token}-${this.#seq++}`);
    const written = this.#writing.then(() => this.#writeFile(bytes, name, temporary));
    this.#writing = written;
    return written;
  }

  async #writeFile(bytes: Buffer, name: string, temporary: string): Promise<SpoolWriteResult> {
    const evicted: Evicted = { files: 0, bytes: 0, items: { trace: 0, event: 0, log: 0, metrics: 0 } };
    if (bytes.length > this.maxBytes) {
      return { ok: false, why: `the batch (${bytes.length} bytes) is larger than the whole spool may be (spoolMaxBytes ${this.maxBytes})`, evicted };
    }
    try {
      await this.#ensureDir();
      await this.#makeRoom(bytes.length, evicted);
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, join(this.dir, name));
      return { ok: true, name, bytes: bytes.length, evicted };
    } catch (error) {
      this.#knownBytes = null;
      await unlink(temporary).catch(() => {});
      return { ok: false, why: `could not write to the spool directory ${this.dir}: ${describe(error)}`, evicted };
    }
  }

  /**
   * Takes the oldest spooled file for sending (null when there is none, or the directory cannot
   * be read). Files that fail their checks are moved aside on the way and listed in `corrupt`.
   */
  async claimOldest(): Promise<ClaimedBatch | null> {
    let names: string[];
    try {
      names = await this.#tidy();
    } catch {
      return null;
    }
    for (const file of names) {
      const name = parseSpoolName(file);
      if (name === null) continue;
      const claimedPath = join(this.dir, `${file}.claimed-${this.#pid}-${this.#token}`);
      try {
        await rename(join(this.dir, file), claimedPath);
      } catch {
        continue; // another process took it first (or deleted it to make room)
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(claimedPath);
      } catch (error) {
        await rename(claimedPath, join(this.dir, file)).catch(() => {});
        this.corrupt.push({ name, why: `could not be read: ${describe(error)}` });
        continue;
      }
      try {
        return { entry: decodeSpoolRecord(bytes), name, bytes: bytes.length, claimedPath };
      } catch (error) {
        await rename(claimedPath, join(this.dir, `${file}.corrupt`)).catch(() => unlink(claimedPath).catch(() => {}));
        this.corrupt.push({ name, why: (error as Error).message });
      }
    }
    return null;
  }

  /** The batch was delivered (or refused for good): its file goes. */
  async remove(claimed: ClaimedBatch): Promise<void> {
    await unlink(claimed.claimedPath).catch(() => {});
    if (this.#knownBytes !== null) this.#knownBytes = Math.max(0, this.#knownBytes - claimed.bytes);
  }

  /** The batch could not be sent now: it goes back under its name, for this or another process. */
  async release(claimed: ClaimedBatch): Promise<void> {
    await rename(claimed.claimedPath, join(this.dir, claimed.name.name)).catch(() => {});
  }

  /** Bytes of spooled files, claimed ones included; 0 when the directory cannot be read. */
  async size(): Promise<number> {
    try {
      const names = await readdir(this.dir);
      let total = 0;
      for (const file of names) {
        if (parseSpoolName(file) === null && !CLAIM.test(file)) continue;
        total += await fileSize(join(this.dir, file));
      }
      return total;
    } catch {
      return 0;
    }
  }

  async #ensureDir(): Promise<void> {
    if (this.#dirReady) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const info = await stat(this.dir);
    if (!info.isDirectory()) throw Object.assign(new Error(`${this.dir} is not a directory`), { code: 'ENOTDIR' });
    // A directory made earlier with a looser umask, or by hand, is tightened when it is ours.
    if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) await chmod(this.dir, 0o700);
    this.#dirReady = true;
  }

  /** Deletes the oldest unclaimed files until `incoming` more bytes fit under maxBytes. */
  async #makeRoom(incoming: number, evicted: Evicted): Promise<void> {
    if (this.#knownBytes !== null && this.#writesSinceListing < WRITES_PER_LISTING && this.#knownBytes + incoming <= this.maxBytes) {
      this.#knownBytes += incoming;
      this.#writesSinceListing++;
      return;
    }
    const names = (await readdir(this.dir)).sort();
    const spooled: Array<{ name: SpoolName; bytes: number }> = [];
    let total = 0;
    for (const file of names) {
      const name = parseSpoolName(file);
      if (name === null && !CLAIM.test(file)) continue;
      const bytes = await fileSize(join(this.dir, file));
      total += bytes;
      if (name !== null) spooled.push({ name, bytes });
    }
    for (const oldest of spooled) {
      if (total + incoming <= this.maxBytes) break;
      try {
        await unlink(join(this.dir, oldest.name.name));
      } catch {
        continue; // claimed or deleted by another process meanwhile: not ours to count
      }
      total -= oldest.bytes;
      evicted.files++;
      evicted.bytes += oldest.bytes;
      evicted.items[oldest.name.kind] += oldest.name.items;
    }
    // Claimed files are being sent and are not deleted: if they alone leave no room, the write
    // goes ahead and the spool is briefly over its size until they are.
    this.#knownBytes = total + incoming;
    this.#writesSinceListing = 0;
  }

  /**
   * Puts back claims of processes that are gone and removes their temporary files; returns the
   * directory's names, oldest spooled file first.
   */
  async #tidy(): Promise<string[]> {
    const names = (await readdir(this.dir)).sort();
    const out: string[] = [];
    for (const file of names) {
      const claim = CLAIM.exec(file);
      if (claim !== null) {
        if (this.#abandoned(Number(claim[2]), claim[3]!)) {
          await rename(join(this.dir, file), join(this.dir, claim[1]!)).catch(() => {});
          out.push(claim[1]!);
        }
        continue;
      }
      const temporary = TEMPORARY.exec(file);
      if (temporary !== null) {
        if (this.#abandoned(Number(temporary[1]), temporary[2]!)) await unlink(join(this.dir, file)).catch(() => {});
        continue;
      }
      out.push(file);
    }
    return out.sort();
  }

  /** A claim or temporary file whose owner can no longer finish it. */
  #abandoned(pid: number, token: string): boolean {
    // Only one worker per process reads the ring: an earlier token of this pid is a dead worker.
    if (pid === this.#pid) return token !== this.#token;
    return !this.#isAlive(pid);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message;
}
