// Hearth's one way of driving restic (Debian's 0.14 and later). Every run gets the repository
// and password through its environment, --json where restic has it, and throttled progress.
// Every failure becomes a HearthError whose sentence the owner reads; restic's own words go
// to the log only, with the password and any credentials in a repository URL taken out.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { HearthError } from '../../../shared/errors';
import { silentLogger } from '../logger';
import type { Logger } from '../logger';
import { classifyResticFailure, resticError, resticGarbled, resticMissing } from './restic-errors';
import { BackupInputWatch } from './backup-input-watch';
import { eachLine, startRestic } from './restic-process';
import { resticTime } from './restic-time';
import type { ResticChild, ResticExit, ResticTarget, SpawnFn } from './restic-process';
import {
  backupStatusJson,
  backupSummaryJson,
  firstJsonLine,
  forgetJson,
  snapshotsJson,
  statsJson,
} from './restic-json';

export interface ResticSnapshot {
  id: string;
  /** ms since epoch (restic keeps sub-second precision; --time sets whole seconds). */
  time: number;
  host: string;
  paths: string[];
  tags: string[];
}

export interface ResticOptions {
  binary: string;
  repository: string;
  password: string;
  cacheDir?: string;
  spawn?: SpawnFn;
  logger?: Logger;
  /** How long a stopped restic has to exit on SIGINT before SIGKILL (default 5 s). */
  stopGraceMs?: number;
}

export interface BackupProgress {
  bytesDone: number;
  /** null when the total is unknown (restic cannot know it for stdin). */
  secondsRemaining: number | null;
}

export interface BackupStreamOptions {
  filename: string;
  host: string;
  tags: string[];
  time?: Date;
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** How many bytes the input will have, when known: gives secondsRemaining. */
  expectedBytes?: number;
}

export interface BackupResult {
  /** The full id; the short one only if restic 0.14's short id could not be resolved. */
  snapshotId: string;
  bytesAdded: number;
  totalBytes: number;
}

export interface ForgetOptions {
  host: string;
  path: string;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
  prune: boolean;
  signal?: AbortSignal;
}

export type CheckResult = { ok: true } | { ok: false; sentence: string };

/** A run that failed on a lock before restic read any of our input, so it can be run again. */
class LockedBeforeStart extends Error {
  constructor(readonly exit: ResticExit) {
    super('restic: repository locked');
  }
}

/** How long a backup waits for restic's first status line before it sends the input anyway. */
const FIRST_LINE_PATIENCE_MS = 30_000;

const snapshotRef = /^([0-9a-f]{8,64}|latest)$/;
const tagValue = /^[^,\s]+$/;

function cancelled(): HearthError {
  return new HearthError('CANCELLED');
}

/** The folder of a folder repository (`/x`, `local:/x`, `C:\x`); null for sftp:, rest: and others. */
function localRepositoryFolder(repository: string): string | null {
  if (repository.startsWith('local:')) return repository.slice('local:'.length);
  // A backend is named by a prefix of two or more letters; one letter is a Windows drive.
  if (/^[A-Za-z][A-Za-z0-9]+:/.test(repository)) return null;
  return repository;
}

function invalid(what: string): HearthError {
  return new HearthError('INVALID_INPUT', undefined, { cause: new Error(what) });
}

export class Restic {
  private readonly target: ResticTarget;
  private readonly spawn?: SpawnFn;
  private readonly stopGraceMs?: number;
  private readonly log: Logger;

  constructor(o: ResticOptions) {
    this.target = {
      binary: o.binary,
      repository: o.repository,
      password: o.password,
      cacheDir: o.cacheDir,
    };
    this.spawn = o.spawn;
    this.stopGraceMs = o.stopGraceMs;
    this.log = o.logger ?? silentLogger;
  }

  /** Creates the repository. A folder that already holds one → BACKUP_FOLDER_NOT_EMPTY. */
  async init(): Promise<void> {
    await this.run(['init']);
  }

  /**
   * Proves the repository exists and the password opens it, without taking a lock (so a
   * backup running elsewhere does not make it fail): the config can only be read with a key.
   */
  async openCheck(): Promise<void> {
    const stdout = await this.run(['--no-lock', 'cat', 'config']);
    try {
      JSON.parse(stdout);
    } catch {
      throw resticGarbled('cat config: not JSON');
    }
  }

  /**
   * `restic backup --stdin`. restic writes a snapshot only after a clean end of its input, so
   * Hearth ends restic's stdin only when `input` itself ended cleanly. When `input` fails or
   * closes early (the device's connection was cut), or `signal` aborts, restic is stopped with
   * stdin still open: it never sees an end, and no snapshot is written. On rejection `input`
   * has been destroyed.
   */
  async backupStream(input: Readable, o: BackupStreamOptions): Promise<BackupResult> {
    if (!o.filename || o.filename.includes('/') || o.filename.includes('\\'))
      throw invalid('backup filename');
    if (!o.host) throw invalid('backup host');
    // restic splits --tag values at commas; a comma would silently make two tags.
    for (const tag of o.tags) if (!tagValue.test(tag)) throw invalid('backup tag');
    const args = ['backup', '--json', '--stdin', '--stdin-filename', o.filename, '--host', o.host];
    for (const tag of o.tags) args.push('--tag', tag);
    let extraEnv: Record<string, string> = {};
    if (o.time) {
      const t = resticTime(o.time);
      args.push('--time', t.value);
      extraEnv = t.env;
    }
    if (input.destroyed || input.readableEnded) throw invalid('backup input already used');
    // Watched from the start: an input that fails while restic is still opening the
    // repository must stop the run too (and must not be an unhandled 'error').
    const watch = new BackupInputWatch(input);
    try {
      try {
        return await this.backupOnce(input, watch, o, args, extraEnv);
      } catch (err) {
        if (!(err instanceof LockedBeforeStart)) throw err;
        await this.unlockStale();
        return await this.backupOnce(input, watch, o, args, extraEnv);
      }
    } catch (err) {
      input.destroy();
      if (err instanceof LockedBeforeStart) throw this.failure(['backup'], err.exit);
      throw err;
    } finally {
      watch.release();
    }
  }

  private async backupOnce(
    input: Readable,
    watch: BackupInputWatch,
    o: BackupStreamOptions,
    args: string[],
    extraEnv: Record<string, string>,
  ): Promise<BackupResult> {
    if (o.signal?.aborted) throw cancelled();
    const run = this.start(args, 'pipe', extraEnv);
    const stdin = run.child.stdin;
    if (!stdin) throw new HearthError('BACKUP_FAILED');
    let summary: ReturnType<typeof backupSummaryJson.parse> | undefined;
    let garbled = false;
    let resolveStarted!: () => void;
    const started = new Promise<void>((resolve) => (resolveStarted = resolve));
    const startedAt = Date.now();
    eachLine(run.child.stdout!, (line) => {
      resolveStarted();
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return; // restic prints the odd plain line (warnings) even with --json
      }
      const status = backupStatusJson.safeParse(json);
      if (status.success) {
        const bytesDone = status.data.bytes_done ?? 0;
        try {
          o.onProgress?.({ bytesDone, secondsRemaining: remaining(bytesDone) });
        } catch (err) {
          // A broken progress display must not break the backup (nor throw in a stream handler).
          this.log.warn({ err }, 'backup progress callback failed');
        }
        return;
      }
      const done = backupSummaryJson.safeParse(json);
      if (done.success) summary = done.data;
      else if ((json as { message_type?: unknown })?.message_type === 'summary') garbled = true;
    });
    const remaining = (bytesDone: number): number | null => {
      const elapsed = (Date.now() - startedAt) / 1000;
      if (!o.expectedBytes || bytesDone <= 0 || elapsed <= 0) return null;
      const left = Math.max(0, o.expectedBytes - bytesDone);
      return Math.round(left / (bytesDone / elapsed));
    };

    // Why wait for restic's first status line: restic prints it after it opened the
    // repository and took its lock, and before it reads stdin. A run that fails on a lock
    // has then consumed none of the input, so it can be retried after unlockStale().
    const stopped: { reason: Error | null } = { reason: null };
    const onAbort = () => {
      stopped.reason ??= cancelled();
      run.stop();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    watch.onFailure = (err) => {
      stopped.reason ??= err;
      run.stop();
    };
    if (watch.failure) watch.onFailure(watch.failure);
    try {
      // A restic that prints nothing before it reads would wait for us forever; after a while
      // the input flows anyway (a lock found after that can no longer be retried).
      let waited: NodeJS.Timeout | undefined;
      const patience = new Promise<null>((resolve) => {
        waited = setTimeout(() => resolve(null), FIRST_LINE_PATIENCE_MS);
      });
      const first = await Promise.race([started.then(() => null), run.exited, patience]);
      clearTimeout(waited);
      if (first) {
        if (stopped.reason) throw stopped.reason;
        if (classifyResticFailure(first.stderr) === 'locked' && !first.spawnError)
          throw new LockedBeforeStart(first);
        throw this.failure(args, first);
      }
      if (stopped.reason) {
        await run.exited;
        throw stopped.reason;
      }

      let inputEnded = false;
      const stopFor = (reason: Error) => {
        if (inputEnded && !(reason instanceof HearthError && reason.code === 'CANCELLED')) return;
        stopped.reason ??= reason;
        input.off('data', onData);
        input.pause();
        // stdin is deliberately left open: restic must not see an end before it dies.
        run.stop();
      };
      const onData = (chunk: Buffer) => {
        if (!stdin.write(chunk)) input.pause();
      };
      stdin.on('drain', () => {
        if (!stopped.reason) input.resume();
      });
      input.once('end', () => {
        inputEnded = true;
        if (!stopped.reason) stdin.end();
      });
      watch.onFailure = stopFor;
      input.on('data', onData);
      input.resume(); // in case the caller had paused it
      o.signal?.removeEventListener('abort', onAbort);
      const onAbortRunning = () => stopFor(cancelled());
      o.signal?.addEventListener('abort', onAbortRunning, { once: true });
      if (o.signal?.aborted) onAbortRunning();
      const exit = await run.exited.finally(() =>
        o.signal?.removeEventListener('abort', onAbortRunning),
      );
      input.off('data', onData);

      // (Read through a cast: TypeScript cannot see that the handlers above may have set it.)
      const reason = stopped.reason as Error | null;
      if (reason) {
        // Only a cancel can come after the end of the input; if restic finished its snapshot
        // in that moment anyway, it is removed, so a cancelled run leaves nothing behind.
        const late = summary;
        if (late && exit.code === 0)
          await this.forgetIds([late.snapshot_id]).catch((err: unknown) =>
            this.log.error({ err }, 'restic: could not forget the snapshot of a cancelled run'),
          );
        if (reason instanceof HearthError) throw reason;
        throw new HearthError('BACKUP_FAILED', undefined, { cause: reason });
      }
      if (exit.code !== 0) throw this.failure(args, exit);
      if (!summary || garbled) throw resticGarbled('backup: no summary line');
      return {
        snapshotId: await this.fullId(summary.snapshot_id),
        bytesAdded: summary.data_added,
        totalBytes: summary.total_bytes_processed,
      };
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      watch.onFailure = null;
    }
  }

  /**
   * restic 0.14 reports a new snapshot by its short id. In a folder repository the full one is
   * a file name under snapshots/ (restic's repository format names each file by the sha256 of
   * its contents, which is the snapshot's id), so it is found there without another restic run
   * (each costs a key derivation, ~0.5 s); elsewhere restic lists it.
   */
  private async fullId(id: string): Promise<string> {
    if (id.length === 64) return id;
    const folder = localRepositoryFolder(this.target.repository);
    if (folder) {
      const names = await readdir(path.join(folder, 'snapshots')).catch(() => [] as string[]);
      const matches = names.filter((n) => n.startsWith(id) && /^[0-9a-f]{64}$/.test(n));
      if (matches.length === 1) return matches[0]!;
    }
    try {
      const [only, ...more] = await this.snapshotsByArgs([id]);
      if (only && more.length === 0 && only.id.startsWith(id)) return only.id;
    } catch (err) {
      this.log.warn({ err }, 'restic: could not resolve a snapshot id');
    }
    return id;
  }

  async snapshots(
    filter: { host?: string; path?: string; tags?: string[] } = {},
  ): Promise<ResticSnapshot[]> {
    const args: string[] = [];
    if (filter.host) args.push('--host', filter.host);
    if (filter.path) args.push('--path', filter.path);
    if (filter.tags?.length) {
      for (const tag of filter.tags) if (!tagValue.test(tag)) throw invalid('snapshot tag');
      // One --tag with commas means "all of these"; several --tag flags would mean "any".
      args.push('--tag', filter.tags.join(','));
    }
    return this.snapshotsByArgs(args);
  }

  private async snapshotsByArgs(args: string[]): Promise<ResticSnapshot[]> {
    const stdout = await this.locking(() => this.run(['snapshots', '--json', ...args]));
    const parsed = snapshotsJson.safeParse(firstJsonLine(stdout, '['));
    if (!parsed.success) throw resticGarbled(`snapshots: ${parsed.error.message}`);
    return parsed.data.map((s) => ({
      id: s.id,
      time: s.time,
      host: s.hostname,
      paths: s.paths,
      tags: s.tags ?? [],
    }));
  }

  /**
   * `restic dump ID FILE` into `output`, at the pace `output` takes it. On success `output`
   * is ended; on failure it is destroyed with the error (as stream.pipeline does: the consumer
   * must listen for 'error'), so a consumer never mistakes a cut stream for a whole one.
   */
  async dump(
    snapshotId: string,
    file: string,
    output: Writable,
    o: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (!snapshotRef.test(snapshotId)) throw invalid('snapshot id');
    if (!file.startsWith('/')) throw invalid('dump file');
    const args = ['dump', snapshotId, file];
    try {
      try {
        await this.dumpOnce(args, output, o.signal);
      } catch (err) {
        if (!(err instanceof LockedBeforeStart)) throw err;
        await this.unlockStale();
        await this.dumpOnce(args, output, o.signal);
      }
    } catch (err) {
      const error = err instanceof LockedBeforeStart ? this.failure(args, err.exit) : err;
      output.destroy(error as Error);
      throw error;
    }
    await new Promise<void>((resolve, reject) => {
      output.once('error', reject);
      output.end(() => resolve());
    });
  }

  private async dumpOnce(args: string[], output: Writable, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw cancelled();
    const run = this.start(args, 'ignore');
    const stdout = run.child.stdout!;
    let wrote = false;
    const stopped: { reason: Error | null } = { reason: null };
    const stop = (reason: Error) => {
      stopped.reason ??= reason;
      run.stop();
      // Drain what restic still writes, so that its stdout can close once it has exited.
      stdout.resume();
    };
    const onAbort = () => stop(cancelled());
    const onOutputError = (err: Error) => stop(err);
    const onDrain = () => stdout.resume();
    signal?.addEventListener('abort', onAbort, { once: true });
    output.on('error', onOutputError);
    output.on('drain', onDrain);
    stdout.on('data', (chunk: Buffer) => {
      wrote = true;
      if (stopped.reason) return;
      if (!output.write(chunk)) stdout.pause();
    });
    const stdoutEnded = new Promise<void>((resolve) => stdout.once('close', resolve));
    try {
      const exit = await run.exited;
      await stdoutEnded;
      if (stopped.reason) throw stopped.reason;
      if (exit.code !== 0) {
        if (!wrote && !exit.spawnError && classifyResticFailure(exit.stderr) === 'locked')
          throw new LockedBeforeStart(exit);
        throw this.failure(args, exit);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      output.off('error', onOutputError);
      output.off('drain', onDrain);
    }
  }

  /** Applies the retention policy to one device's one app (`--group-by host,paths`). */
  async forget(o: ForgetOptions): Promise<{ removed: string[] }> {
    const keep = [o.keepDaily, o.keepWeekly, o.keepMonthly];
    if (!keep.every((n) => Number.isInteger(n) && n >= 0) || keep.every((n) => n === 0))
      throw invalid('retention policy'); // restic would take "keep nothing" as "forget none"
    if (!o.host || !o.path) throw invalid('forget scope');
    const args = ['forget', '--json', '--group-by', 'host,paths', '--host', o.host];
    args.push('--path', o.path, '--keep-daily', String(o.keepDaily));
    args.push('--keep-weekly', String(o.keepWeekly), '--keep-monthly', String(o.keepMonthly));
    if (o.prune) args.push('--prune');
    const stdout = await this.locking(() => this.run(args, o.signal));
    const json = firstJsonLine(stdout, '[');
    // restic prints nothing at all when no snapshot matched the host and path.
    if (json === undefined && !stdout.trim()) return { removed: [] };
    const parsed = forgetJson.safeParse(json);
    if (!parsed.success) throw resticGarbled(`forget: ${parsed.error.message}`);
    return { removed: parsed.data.flatMap((g) => (g.remove ?? []).map((s) => s.id)) };
  }

  /** Forgets these snapshots (a failed restore drill's, a cancelled run's). No prune. */
  async forgetIds(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) if (!/^[0-9a-f]{8,64}$/.test(id)) throw invalid('snapshot id');
    await this.locking(() => this.run(['forget', ...ids]));
  }

  /**
   * Reads the repository back. ok:false means restic found damage (a corrupted or missing
   * pack); not being able to run the check at all (locked, wrong password) throws instead.
   */
  async check(o: {
    readData: 'none' | 'subset' | 'full';
    subset?: string;
    signal?: AbortSignal;
  }): Promise<CheckResult> {
    const args = ['check'];
    if (o.readData === 'full') args.push('--read-data');
    if (o.readData === 'subset') {
      const subset = o.subset ?? '1/10';
      if (!/^(\d+\/\d+|\d+(\.\d+)?%|\d+[KMGT]?)$/.test(subset)) throw invalid('check subset');
      args.push(`--read-data-subset=${subset}`);
    }
    try {
      await this.locking(() => this.run(args, o.signal));
      return { ok: true };
    } catch (err) {
      if (err instanceof HearthError && err.code === 'BACKUP_DAMAGED')
        return { ok: false, sentence: err.message };
      throw err;
    }
  }

  /**
   * `restic unlock` without --remove-all removes only stale locks: ones created on this host
   * by a process that no longer exists, or not refreshed for 30 minutes. A running restic,
   * here or on another machine, refreshes its lock every 5 minutes and is on its own host, so
   * its lock is never taken away from under it. That is why calling this before a retry is
   * safe at any time.
   */
  async unlockStale(): Promise<void> {
    await this.run(['unlock']);
  }

  /** The repository's size on disk (packs, deduplicated, compressed); reads only the index. */
  async stats(): Promise<{ totalBytes: number; snapshots: number | null }> {
    const stdout = await this.locking(() => this.run(['stats', '--mode', 'raw-data', '--json']));
    const parsed = statsJson.safeParse(firstJsonLine(stdout, '{'));
    if (!parsed.success) throw resticGarbled(`stats: ${parsed.error.message}`);
    return { totalBytes: parsed.data.total_size, snapshots: parsed.data.snapshots_count ?? null };
  }

  /** Runs `fn`; if the repository is locked, removes stale locks once and runs it once more. */
  private async locking<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof HearthError && err.code === 'BACKUP_LOCKED')) throw err;
      this.log.info('restic: repository locked; removing stale locks and trying once more');
      await this.unlockStale();
      return fn();
    }
  }

  private start(
    args: string[],
    stdin: 'pipe' | 'ignore',
    extraEnv?: Record<string, string>,
  ): ResticChild {
    return startRestic({
      spawn: this.spawn,
      target: this.target,
      args,
      stdin,
      extraEnv,
      stopGraceMs: this.stopGraceMs,
    });
  }

  /** One command to its end: its stdout, or the HearthError its failure means. */
  private async run(args: string[], signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) throw cancelled();
    const run = this.start(args, 'ignore');
    const chunks: Buffer[] = [];
    run.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    const onAbort = () => run.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    const exit = await run.exited.finally(() => signal?.removeEventListener('abort', onAbort));
    if (signal?.aborted) throw cancelled();
    if (exit.code !== 0) throw this.failure(args, exit);
    return Buffer.concat(chunks).toString('utf8');
  }

  private failure(args: string[], exit: ResticExit): HearthError {
    if (exit.spawnError) {
      this.log.error({ err: exit.spawnError }, 'restic could not be started');
      return resticMissing(exit.spawnError);
    }
    const kind = classifyResticFailure(exit.stderr);
    this.log.warn(
      { command: args.find((a) => !a.startsWith('-')), code: exit.code, signal: exit.signal, kind },
      `restic failed: ${this.redact(exit.stderr).trim()}`,
    );
    return resticError(kind, `restic ${args[0]} exited ${exit.code ?? exit.signal}`);
  }

  /** Takes the password and URL credentials out of text restic printed, before it is logged. */
  private redact(text: string): string {
    let out = text.replace(/(\/\/)[^/@\s]+@/g, '$1[redacted]@');
    if (this.target.password) out = out.split(this.target.password).join('[redacted]');
    return out;
  }
}
