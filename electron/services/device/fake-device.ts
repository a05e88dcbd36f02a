// An in-memory Hearth device for unit tests: an SshSession that understands the operations
// device-client.ts sends (by the `# hearth:<op> <args>` line each script starts with), keeps
// files and systemd-like unit states, and records every command it does not know, so a test
// can assert that a service asked the device for nothing unexpected. The real scripts are
// proven against the lab's real devices; this proves the services' logic around them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { HearthError } from '../../../shared/errors';
import type { ExecOptions, ExecResult, SshSession } from '../ssh/ssh-session';
import type { ExecStream, ExecStreamOptions, ExecStreamResult } from '../ssh/ssh-session';
import type { UploadOptions, UploadResult } from '../ssh/ssh-session';
import { BOOT_MARKER } from './app-status-report';
import { appPaths, deviceLayout } from './layout';
import { RESUMED_LINE } from './volume-scripts';

/** How an app behaves when its unit starts. */
export type FakeAppBehaviour =
  /** Starts and prints its health pattern. */
  | 'healthy'
  /** Runs but never prints its pattern (or never answers its port). */
  | 'never-ready'
  /** Keeps crashing: systemd gives up at once. */
  | 'crashes'
  /** Fails under KVM (a /dev/kvm that cannot run guests), runs under emulation. */
  | 'needs-tcg';

export interface FakeUnit {
  activeState: 'active' | 'inactive' | 'failed' | 'activating';
  subState: string;
  result: string;
  restarts: number;
  enabled: boolean;
  startedAt: number | null;
  /** Paused over QMP. */
  paused: boolean;
  /** "Sleep when idle": its sockets listen (the agent's sleep-on). */
  sleeping: boolean;
}

interface Failure {
  code: number;
  stderr: string;
  times: number;
}

const newUnit = (): FakeUnit => ({
  activeState: 'inactive',
  subState: 'dead',
  result: 'success',
  restarts: 0,
  enabled: false,
  startedAt: null,
  paused: false,
  sleeping: false,
});

export class FakeDevice implements SshSession {
  readonly hostKeyFingerprint = 'SHA256:fakefakefakefakefakefakefakefakefakefakefak';
  readonly files = new Map<string, Buffer>();
  readonly modes = new Map<string, number>();
  readonly units = new Map<string, FakeUnit>();
  readonly behaviour = new Map<string, FakeAppBehaviour>();
  /** Every operation, as `op arg arg`, in order. */
  readonly operations: string[] = [];
  /** Commands that were not a known operation (a test expects this to stay empty). */
  readonly unknown: string[] = [];
  /** Whether the hearth account can open /dev/kvm. */
  kvmDevice = true;
  /** While true, every command fails as if the device were switched off. */
  offline = false;
  /** Uploads arrive with a flipped byte (a damaged link). */
  damageUploads = false;
  /** What the agent's peer-snapshots prints: the copies other devices keep here (peer-held.ts). */
  heldListing = '';
  /** The tars of those copies, by `APP SNAPSHOT`, as the agent's peer-dump streams them. */
  readonly heldTars = new Map<string, Buffer>();
  /** Lines `ip -4 neigh show` prints. */
  neighbourTable: string[] = [];
  /**
   * The data disk is full: a snapshot fails before pausing, a receive before or while
   * writing, each with BACKUP_DEVICE_DISK_FULL's exit and nothing left behind, as on a device.
   */
  diskFull = false;
  /** The paused time a snapshot reports. */
  snapshotPausedMs = 42;
  /** Called while a snapshot has the app paused (after the pause, before the copies). */
  onSnapshotPaused: ((appId: string) => void) | null = null;
  /** Whether a snapshot reports early, as snapshotScript does once the app runs again. */
  earlySnapshotReports = true;
  /**
   * Awaited between a snapshot's early report and its end (the device still copying); a result
   * it returns is the snapshot's instead (a copy that failed after the app was resumed).
   */
  whileCopying: ((appId: string) => Promise<ExecResult | void>) | null = null;
  now = 1_795_000_000_000;
  readonly closed: Promise<void>;
  #close: () => void = () => undefined;
  #closedFlag = false;
  readonly #failures = new Map<string, Failure>();
  /**
   * A file's stat identity belongs to its Buffer: a file set anew (a write, a restore's
   * rename) gets a new one, a Buffer changed in place keeps it, as a write whose mtime was
   * forced back and whose ctime did not move would on a device.
   */
  readonly #identities = new WeakMap<Buffer, string>();
  #nextInode = 1000;

  constructor() {
    this.closed = new Promise((resolve) => (this.#close = resolve));
  }

  /** The next `times` runs of `op` exit with `code` and `stderr`. */
  failNext(op: string, stderr = 'failed', code = 1, times = 1): void {
    this.#failures.set(op, { code, stderr, times });
  }

  unit(appId: string): FakeUnit {
    let unit = this.units.get(appId);
    if (!unit) this.units.set(appId, (unit = newUnit()));
    return unit;
  }

  text(path: string): string | undefined {
    return this.files.get(path)?.toString('utf8');
  }

  /** An installed app, as an install would have left it (spec.json, health pattern, running). */
  installed(spec: { appId: string; health: { kind: string; pattern?: string } } & object): void {
    const p = appPaths(spec.appId);
    this.files.set(p.spec, Buffer.from(`${JSON.stringify(spec)}\n`));
    this.files.set(
      p.healthPattern,
      Buffer.from(spec.health.kind === 'console' ? (spec.health.pattern ?? '') : ''),
    );
    this.unit(spec.appId).enabled = true;
    this.#start(spec.appId);
  }

  close(): void {
    if (this.#closedFlag) return;
    this.#closedFlag = true;
    this.#close();
  }

  async writeFile(remotePath: string, data: Buffer | string, mode = 0o644): Promise<void> {
    await Promise.resolve();
    this.#online();
    this.files.set(remotePath, Buffer.from(data));
    this.modes.set(remotePath, mode);
  }

  async uploadFile(
    remotePath: string,
    localPath: string,
    options: UploadOptions,
  ): Promise<UploadResult> {
    this.#online();
    const data = await readFile(localPath);
    const already = this.files.get(remotePath)?.length ?? 0;
    const resumedFrom = already <= data.length ? already : 0;
    if (options.signal?.aborted) throw new HearthError('CANCELLED');
    const copy = Buffer.from(data);
    if (this.damageUploads && copy.length > 0) copy[copy.length - 1] = (copy.at(-1) ?? 0) ^ 0xff;
    this.files.set(remotePath, copy);
    this.modes.set(remotePath, options.mode);
    options.onProgress?.(data.length, data.length);
    return { resumedFrom, size: data.length };
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    await Promise.resolve();
    if (options.signal?.aborted) throw new HearthError('CANCELLED');
    this.#online();
    const script = /^sh -c '(.*)'$/s.exec(command)?.[1]?.replaceAll(`'\\''`, "'");
    const tag = /^# hearth:([^\n]*)\n/.exec(script ?? '')?.[1];
    if (!tag) return this.#unknown(command);
    const [op = '', ...args] = tag.split(' ');
    this.operations.push(tag);
    const failure = this.#failures.get(op);
    if (failure) {
      if (--failure.times <= 0) this.#failures.delete(op);
      return { code: failure.code, signal: null, stdout: '', stderr: failure.stderr };
    }
    const out = this.#run(op, args);
    if (out === null) return this.#unknown(command);
    const result = typeof out === 'string' ? ok(out) : out;
    // As a device streams it: a snapshot's early report (up to the resumed line) first, then,
    // once whatever a test does while the copy is finishing is done, the rest.
    const resumed = `\n${RESUMED_LINE}\n`;
    const split = op === 'snapshot-volumes' ? result.stdout.indexOf(resumed) : -1;
    if (split >= 0) {
      options.onStdout?.(Buffer.from(result.stdout.slice(0, split + resumed.length)));
      const instead = await this.whileCopying?.(args[0] ?? '');
      if (instead) return instead;
      options.onStdout?.(Buffer.from(result.stdout.slice(split + resumed.length)));
    } else if (result.stdout) options.onStdout?.(Buffer.from(result.stdout));
    return result;
  }

  execStream(command: string, options: ExecStreamOptions = {}): ExecStream {
    const stdout = new PassThrough();
    stdout.on('error', () => undefined);
    const done = this.#stream(command, options, stdout);
    done.then(
      () => stdout.end(),
      (error: unknown) => stdout.destroy(error as Error),
    );
    return { stdout, done };
  }

  async #stream(
    command: string,
    options: ExecStreamOptions,
    stdout: PassThrough,
  ): Promise<ExecStreamResult> {
    await Promise.resolve();
    if (options.signal?.aborted) throw new HearthError('CANCELLED');
    this.#online();
    const script = /^sh -c '(.*)'$/s.exec(command)?.[1]?.replaceAll(`'\\''`, "'");
    const tag = /^# hearth:([^\n]*)\n/.exec(script ?? '')?.[1];
    const unknown = (): ExecStreamResult => {
      const { code, signal, stderr } = this.#unknown(command);
      return { code, signal, stderr };
    };
    if (!tag) return unknown();
    const [op = '', a = '', b = '', c = '', size] = tag.split(' ');
    this.operations.push(tag);
    const failure = this.#failures.get(op);
    if (failure) {
      if (--failure.times <= 0) this.#failures.delete(op);
      return { code: failure.code, signal: null, stderr: failure.stderr };
    }
    const missing = { code: 3, signal: null, stderr: 'hearth: no such file' };
    switch (op) {
      case 'read-copy': {
        const data = this.files.get(appPaths(a).volumeCopy(b, c));
        if (!data) return missing;
        stdout.write(data);
        return { code: 0, signal: null, stderr: '' };
      }
      case 'peer-held-dump': {
        const data = this.heldTars.get(`${a} ${b}`);
        if (!data) return { code: 1, signal: null, stderr: 'Fatal: no matching ID found' };
        stdout.write(data);
        return { code: 0, signal: null, stderr: '' };
      }
      case 'read-image': {
        const p = appPaths(a);
        const sha =
          b === 'current' ? /^-> images\/([0-9a-f]{64})$/.exec(this.text(p.current) ?? '')?.[1] : b;
        const data = sha === undefined ? undefined : this.files.get(p.image(sha));
        if (!data) return missing;
        stdout.write(data);
        return { code: 0, signal: null, stderr: '' };
      }
      case 'receive-volume': {
        const partial = `${appPaths(a).restoredVolume(b, c)}.partial`;
        if (this.diskFull && size !== undefined)
          return { code: 28, signal: null, stderr: 'hearth: disk-full\n' };
        this.files.delete(partial);
        const received: Buffer[] = [];
        try {
          await drain(options.stdin, received, options.signal);
        } finally {
          // Whatever arrived is on the device's disk, as it would be after a cut.
          if (!this.diskFull) this.files.set(partial, Buffer.concat(received));
        }
        if (this.diskFull)
          return {
            code: 1,
            signal: null,
            stderr: 'cat: write error: No space left on device\n',
          };
        return { code: 0, signal: null, stderr: '' };
      }
      default:
        return unknown();
    }
  }

  #online(): void {
    if (this.#closedFlag) throw new HearthError('CONNECTION_LOST');
    if (this.offline) throw new HearthError('DEVICE_UNREACHABLE');
  }

  #unknown(command: string): ExecResult {
    this.unknown.push(command);
    return { code: 127, signal: null, stdout: '', stderr: 'sh: not a Hearth operation' };
  }

  /** Runs one operation; null when it is not one this device knows. */
  #run(op: string, args: string[]): string | ExecResult | null {
    const [a = '', b = '', c = ''] = args;
    switch (op) {
      case 'status':
        return this.#status();
      case 'unit-status': {
        const u = this.unit(a);
        return `ActiveState=${u.activeState}\nSubState=${u.subState}\nResult=${u.result}\nNRestarts=${u.restarts}\n`;
      }
      case 'neighbours':
        return this.neighbourTable.map((l) => `${l}\n`).join('');
      case 'console-shows': {
        const pattern = this.text(appPaths(a).healthPattern) ?? '';
        const log = this.text(appPaths(a).consoleLog) ?? '';
        const boot = log.lastIndexOf(BOOT_MARKER);
        const shown = pattern !== '' && log.slice(Math.max(0, boot)).includes(pattern);
        return shown ? ok('') : { code: 1, signal: null, stdout: '', stderr: '' };
      }
      case 'console-tail': {
        const log = this.files.get(appPaths(a).consoleLog) ?? Buffer.alloc(0);
        return `${log.length}\n${log.subarray(Math.max(0, log.length - Number(b))).toString()}`;
      }
      case 'console-since': {
        const log = this.files.get(appPaths(a).consoleLog) ?? Buffer.alloc(0);
        const from = Number(b);
        const rest = log.length > from ? log.subarray(from, from + Number(c)).toString() : '';
        return `${log.length}\n${rest}`;
      }
      case 'app-folders':
        return [...this.#appFolders()].map((d) => `${d}\n`).join('');
      case 'unfinished-install': {
        for (const id of this.#appFolders()) {
          const p = appPaths(id);
          if (this.files.has(p.spec)) continue;
          if ((this.text(p.origin)?.trim() ?? 'file') !== 'file') continue;
          if (this.files.has(p.partialImage(a)) || this.files.has(p.image(a))) return `${id}\n`;
        }
        return '';
      }
      case 'prepare-app':
        this.files.set(`${appPaths(a).images}/.dir`, Buffer.alloc(0));
        this.files.set(`${appPaths(a).data}/.dir`, Buffer.alloc(0));
        return '';
      case 'image-hash': {
        const image = this.files.get(appPaths(a).image(b));
        return image ? `${sha256(image)}\n` : '';
      }
      case 'partial-hash': {
        const partial = this.files.get(appPaths(a).partialImage(b));
        return partial ? `${sha256(partial)}\n` : '';
      }
      case 'drop-partial':
        this.files.delete(appPaths(a).partialImage(b));
        return '';
      case 'keep-image': {
        const p = appPaths(a);
        const partial = this.files.get(p.partialImage(b));
        if (!partial) return { code: 1, signal: null, stdout: '', stderr: 'no such file' };
        this.files.delete(p.partialImage(b));
        this.files.set(p.image(b), partial);
        this.modes.set(p.image(b), 0o444);
        return '';
      }
      case 'images-intact':
        return args
          .slice(1)
          .map((hash) => {
            const image = this.files.get(appPaths(a).image(hash));
            return image ? `${sha256(image)}  ${hash}\n` : '';
          })
          .join('');
      case 'ensure-volumes': {
        let created = '';
        for (const volume of args.slice(1)) {
          const [name = '', size = '0'] = volume.split(':');
          const path = appPaths(a).volume(name);
          if (this.files.has(path)) continue;
          // Sparse on the real device: the fake keeps the size, not the bytes.
          this.files.set(path, Buffer.alloc(Math.min(Number(size), 1)));
          created = 'created\n';
        }
        return created;
      }
      case 'install-facts': {
        const usable = this.kvmDevice && !this.files.has(deviceLayout.kvmUnusable);
        return `${usable ? 'kvm' : 'no-kvm'}\n${this.text(appPaths(a).spec) ?? ''}`;
      }
      case 'kvm-unusable':
        this.files.set(deviceLayout.kvmUnusable, Buffer.alloc(0));
        return '';
      case 'read-origin': {
        const spec = this.text(appPaths(a).spec);
        const guess =
          spec === undefined ? '' : spec.includes('"version":"file ') ? 'file' : 'catalog';
        return this.text(appPaths(a).origin) ?? guess;
      }
      case 'keep-file': {
        const path = `${appPaths(a).dir}/${b.replace(':', '/')}`;
        const temp = this.files.get(`${path}.hearth-new`);
        if (!temp) return { code: 1, signal: null, stdout: '', stderr: 'no such file' };
        this.files.delete(`${path}.hearth-new`);
        this.files.set(path, temp);
        return '';
      }
      case 'switch-current': {
        const p = appPaths(a);
        this.files.set(p.current, Buffer.from(`-> images/${b}`));
        return '';
      }
      case 'remove-app': {
        const p = appPaths(a);
        this.#stop(a);
        this.unit(a).enabled = false;
        for (const path of [...this.files.keys()])
          if (path.startsWith(`${p.dir}/`) && (b === 'all' || !path.startsWith(`${p.data}/`)))
            this.files.delete(path);
        return '';
      }
      case 'control':
        if (b === 'stop') this.#stop(a);
        else this.#start(a);
        return '';
      case 'sleep':
        this.unit(a).sleeping = b === 'on';
        // On: asleep until a visit; off: started at boot and now, as the agent does.
        this.unit(a).enabled = b !== 'on';
        if (b === 'on') this.#stop(a);
        else this.#start(a);
        return '';
      case 'enable-restart':
        this.unit(a).enabled = true;
        this.#start(a);
        return '';
      case 'pause':
      case 'resume': {
        const u = this.unit(a);
        if (u.activeState !== 'active')
          return { code: 4, signal: null, stdout: '', stderr: 'qmp: cannot reach' };
        u.paused = op === 'pause';
        return '';
      }
      case 'copy-volume': {
        const from = appPaths(a).volume(b);
        const data = this.files.get(from);
        if (!data) return { code: 1, signal: null, stdout: '', stderr: 'no such file' };
        this.files.set(`${from}.${c}`, Buffer.from(data));
        return '';
      }
      case 'read-state':
        return this.text(appPaths(a).state(b)) ?? '';
      case 'state-dir':
        return '';
      case 'write-state': {
        const path = appPaths(a).state(b);
        const temp = this.files.get(`${path}.hearth-new`);
        if (!temp) return { code: 1, signal: null, stdout: '', stderr: 'no such file' };
        this.files.delete(`${path}.hearth-new`);
        this.files.set(path, temp);
        return '';
      }
      case 'snapshot-volumes':
        return this.#snapshot(a, b, args.slice(2));
      case 'hash-copies': {
        let out = '';
        for (const volume of args.slice(2)) {
          const copy = this.files.get(appPaths(a).volumeCopy(volume, b));
          if (!copy) return { code: 3, signal: null, stdout: '', stderr: 'hearth: no such copy' };
          out += `${volume} ${sha256(copy)}\n`;
        }
        return out;
      }
      case 'remove-copies': {
        const p = appPaths(a);
        const ends = [
          `.img.${b}`,
          `.img.${b}.partial`,
          `.img.restore-${b}`,
          `.img.restore-${b}.partial`,
        ];
        for (const path of this.#dataFiles(a))
          if (ends.some((end) => path.endsWith(end)) || path === p.snapshotResult(b))
            this.files.delete(path);
        return '';
      }
      case 'remove-stale':
        for (const path of this.#dataFiles(a)) {
          const name = path.slice(path.lastIndexOf('/') + 1);
          const stale = /\.img\../.test(name) || name.startsWith('.hearth-snapshot-');
          const replaced = /\.img\.replaced-/.test(name);
          if (stale && (!replaced || b === 'with-replaced')) this.files.delete(path);
        }
        return '';
      case 'image-file-size': {
        const image = this.files.get(appPaths(a).image(b));
        if (!image) return { code: 3, signal: null, stdout: '', stderr: 'hearth: no such image' };
        return `${image.length}\n`;
      }
      case 'image-size': {
        const p = appPaths(a);
        const sha = /^-> images\/([0-9a-f]{64})$/.exec(this.text(p.current) ?? '')?.[1];
        if (sha === undefined) return '';
        const image = this.files.get(p.image(sha));
        if (!image) return { code: 3, signal: null, stdout: '', stderr: 'hearth: no image' };
        return `${sha} ${image.length}\n`;
      }
      case 'keep-restore': {
        const restored = appPaths(a).restoredVolume(b, c);
        const partial = this.files.get(`${restored}.partial`);
        if (!partial) return { code: 3, signal: null, stdout: '', stderr: 'hearth: nothing' };
        this.files.delete(`${restored}.partial`);
        this.files.set(restored, partial);
        return `${sha256(partial)}\n`;
      }
      case 'swap-in-volume': {
        const p = appPaths(a);
        const restored = this.files.get(p.restoredVolume(b, c));
        if (!restored) return { code: 3, signal: null, stdout: '', stderr: 'hearth: no restored' };
        const live = this.files.get(p.volume(b));
        this.files.delete(p.replacedVolume(b, c));
        this.files.delete(`${p.replacedVolume(b, c)}.none`);
        if (live) this.files.set(p.replacedVolume(b, c), live);
        else this.files.set(`${p.replacedVolume(b, c)}.none`, Buffer.alloc(0));
        this.files.set(p.volume(b), restored);
        this.files.delete(p.restoredVolume(b, c));
        return '';
      }
      case 'put-back-volume': {
        const p = appPaths(a);
        const replaced = this.files.get(p.replacedVolume(b, c));
        if (replaced) this.files.set(p.volume(b), replaced);
        else if (this.files.has(`${p.replacedVolume(b, c)}.none`)) this.files.delete(p.volume(b));
        else return { code: 3, signal: null, stdout: '', stderr: 'hearth: nothing to put back' };
        this.files.delete(p.replacedVolume(b, c));
        this.files.delete(`${p.replacedVolume(b, c)}.none`);
        return '';
      }
      case 'drop-replaced': {
        const p = appPaths(a);
        this.files.delete(p.replacedVolume(b, c));
        this.files.delete(`${p.replacedVolume(b, c)}.none`);
        return '';
      }
      case 'read-spec': {
        const spec = this.text(appPaths(a).spec);
        return spec === undefined ? 'no\n' : `yes\n${spec}`;
      }
      case 'peer-held':
        return this.heldListing;
      // The app's backup timer off (peer-backups.ts), a source's key taken away on a target.
      case 'peer-schedule':
      case 'peer-revoke':
        return '';
      default:
        return null;
    }
  }

  /** Pauses if running, copies, resumes; the same verdict lines as the device's script. */
  #snapshot(appId: string, tag: string, volumes: string[]): ExecResult {
    const p = appPaths(appId);
    for (const volume of volumes)
      if (!this.files.has(p.volume(volume)))
        return { code: 1, signal: null, stdout: '', stderr: `hearth: fail missing ${volume}\n` };
    if (this.diskFull) return { code: 28, signal: null, stdout: '', stderr: 'hearth: disk-full\n' };
    const u = this.unit(appId);
    const wasRunning = u.activeState === 'active' && !u.paused;
    if (wasRunning) {
      u.paused = true;
      this.operations.push(`pause ${appId}`);
    }
    try {
      this.onSnapshotPaused?.(appId);
      let out = '';
      for (const volume of volumes) {
        const live = this.files.get(p.volume(volume)) ?? Buffer.alloc(0);
        const data = Buffer.from(live);
        this.files.set(p.volumeCopy(volume, tag), data);
        out += `copy ${volume} ${data.length}\nidentity ${volume} ${this.#identity(live)}\n`;
      }
      out += `paused-ms ${wasRunning ? this.snapshotPausedMs : 0}\nwas-running ${wasRunning ? 'yes' : 'no'}\n`;
      return ok(this.earlySnapshotReports ? `${out}${RESUMED_LINE}\n${out}` : out);
    } finally {
      // Never left paused, whatever a test's hook does.
      if (wasRunning) {
        u.paused = false;
        this.operations.push(`resume ${appId}`);
      }
    }
  }

  /** `size mtime ctime inode`, as the device's `stat -c '%s %.9Y %.9Z %i'` prints them. */
  #identity(file: Buffer): string {
    let id = this.#identities.get(file);
    if (id === undefined) {
      const inode = this.#nextInode++;
      const time = `${Math.floor(this.now / 1000)}.${String(inode).padStart(9, '0')}`;
      id = `${time} ${time} ${inode}`;
      this.#identities.set(file, id);
    }
    return `${file.length} ${id}`;
  }

  #dataFiles(appId: string): string[] {
    const prefix = `${appPaths(appId).data}/`;
    return [...this.files.keys()].filter(
      (path) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/'),
    );
  }

  #appFolders(): Set<string> {
    const prefix = `${deviceLayout.appsDir}/`;
    const ids = new Set<string>();
    for (const path of this.files.keys())
      if (path.startsWith(prefix)) ids.add(path.slice(prefix.length).split('/')[0] ?? '');
    ids.delete('');
    return ids;
  }

  #status(): string {
    let out = '';
    for (const id of [...this.#appFolders()].sort()) {
      const p = appPaths(id);
      const spec = this.text(p.spec);
      if (spec === undefined) continue;
      const u = this.unit(id);
      out += `@app ${id}\nSpec=${spec.replace(/\n/g, '')}\n`;
      out += `ActiveState=${u.activeState}\nSubState=${u.subState}\nResult=${u.result}\nNRestarts=${u.restarts}\n`;
      out += `ExecMainStartTimestamp=${u.startedAt ? `@${Math.floor(u.startedAt / 1000)}` : ''}\n`;
      out += `MemoryCurrent=[not set]\nUnitFileState=${u.enabled ? 'enabled' : 'disabled'}\n`;
      if (u.sleeping) out += 'Sleeping=yes\n';
      const pattern = this.text(p.healthPattern) ?? '';
      const log = this.text(p.consoleLog);
      if (pattern && log !== undefined) {
        const boot = log.lastIndexOf(BOOT_MARKER);
        out += `Healthy=${log.slice(Math.max(0, boot)).includes(pattern) ? 'yes' : 'no'}\n`;
      }
    }
    return out;
  }

  #start(appId: string): void {
    const u = this.unit(appId);
    const p = appPaths(appId);
    const spec = JSON.parse(this.text(p.spec) ?? '{}') as { accel?: string };
    const behaviour = this.behaviour.get(appId) ?? 'healthy';
    const fails = behaviour === 'crashes' || (behaviour === 'needs-tcg' && spec.accel === 'kvm');
    const log = this.text(p.consoleLog) ?? '';
    const pattern = this.text(p.healthPattern) ?? '';
    const printed = behaviour === 'healthy' || (behaviour === 'needs-tcg' && !fails);
    this.files.set(
      p.consoleLog,
      Buffer.from(
        `${log}${BOOT_MARKER} ${appId} ---\n\x1b[?7l\x1b[2Jbooting\n${printed && pattern ? `${pattern}\n` : ''}`,
      ),
    );
    Object.assign(
      u,
      fails
        ? { activeState: 'failed', subState: 'failed', result: 'exit-code', restarts: 4 }
        : { activeState: 'active', subState: 'running', result: 'success', restarts: 0 },
      { startedAt: fails ? null : this.now, paused: false },
    );
  }

  #stop(appId: string): void {
    Object.assign(this.unit(appId), {
      activeState: 'inactive',
      subState: 'dead',
      startedAt: null,
      paused: false,
    });
  }
}

function ok(stdout: string): ExecResult {
  return { code: 0, signal: null, stdout, stderr: '' };
}

/** Reads a stdin to its end (or until cancelled), keeping what arrived in `into`. */
function drain(
  stdin: NodeJS.ReadableStream | Readable | undefined,
  into: Buffer[],
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!stdin) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const stop = (error: unknown): void => {
      stdin.removeListener('data', onData);
      stdin.pause();
      reject(
        error instanceof HearthError
          ? error
          : new HearthError('INTERNAL', undefined, { cause: error }),
      );
    };
    const onData = (chunk: Buffer | string): void => {
      into.push(Buffer.from(chunk));
    };
    const onAbort = (): void => stop(new HearthError('CANCELLED'));
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', onData);
    stdin.once('error', stop);
    stdin.once('end', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
