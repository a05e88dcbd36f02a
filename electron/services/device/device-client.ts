// Every operation Hearth performs on a prepared device, as a typed method over one SSH session
// as the hearth account. Apps, backups and updates call these; none of them builds a device
// path or a remote command. Root is reached only through the agent (agent-protocol.ts).
import { HearthError } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import { isAppId } from '../../../shared/ids';
import { Transform, type Readable } from 'node:stream';
import type { SshSession } from '../ssh/ssh-session';
import { agentCommand } from './agent-protocol';
import type { RawAppStatus } from './app-status-report';
import { BOOT_MARKER, parseStatus, statusScript } from './app-status-report';
import { appPaths, appUnit, deviceLayout } from './layout';
import type { ScriptOptions } from './remote-script';
import { checkOperation, operationFailed, runOperation, streamOperation } from './remote-script';
import { sha256Function } from './sha256-script';
import { shellQuote } from './shell-quote';
import {
  BUSY_STATUS,
  DISK_FULL_STATUS,
  copyLock,
  dataDirCheck,
  RESUMED_LINE,
  snapshotScript,
} from './volume-scripts';

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_STATE_BYTES = 64 * 1024;
const MAX_SPEC_BYTES = 64 * 1024;
const MAX_SNAPSHOT_VOLUMES = 16;
/** How long an app may stay paused for its copies before the device resumes it anyway. */
export const SNAPSHOT_WATCHDOG_SECONDS = 300;
/** Hashing a received volume reads all of it once more on the device (an SD card is slow). */
const HASH_TIMEOUT_MS = 30 * 60_000;

export interface AppFile {
  /** A name inside the app's folder ("run", "spec.json"). */
  name: string;
  content: string;
  /** Octal, as chmod takes it ("0755"). */
  mode: string;
}

/** Where an installed app came from: a signed catalog, or a file the owner chose. */
export type AppOrigin = 'catalog' | 'file';

export interface ConsoleChunk {
  /** The console log's size on the device after this read, in bytes. */
  size: number;
  text: string;
}

export interface PlaceImageOptions {
  signal: AbortSignal;
  onProgress: (sent: number, total: number) => void;
}

function sha(value: string): string {
  if (!SHA256.test(value)) throw new Error(`not a sha256: ${JSON.stringify(value)}`);
  return value;
}

/** State file names are short names, so each maps to one file under <app>/state/. */
function stateName(value: string): string {
  if (!isAppId(value)) throw new Error(`not a state name: ${JSON.stringify(value)}`);
  return value;
}

export interface VolumeCopy {
  volume: string;
  /** The copy on the device; readFileStream({ copy: path }) streams it. */
  path: string;
  sizeBytes: number;
  /** The live volume's stat while the app was paused; null when the device could not say. */
  identity: VolumeIdentity | null;
}

/**
 * What `stat` says of a volume file: the same identity from one run to the next means nothing
 * wrote it (a rename, a restore or a write changes its ctime or inode). Times are seconds with
 * nine decimals, kept as text: nanoseconds since 1970 are beyond a double's precision.
 */
export interface VolumeIdentity {
  sizeBytes: number;
  mtime: string;
  ctime: string;
  inode: string;
}

export interface SnapshotResult {
  copies: VolumeCopy[];
  /** How long the app's VM was paused, measured on the device (0 when it was not running). */
  pausedMs: number;
  /** Whether the VM was running (so was paused and resumed) when the copies were taken. */
  wasRunning: boolean;
}

export interface SnapshotOptions {
  signal?: AbortSignal;
  /** The device resumes the app after this long even if a copy hangs (the run then fails). */
  watchdogSeconds?: number;
  /**
   * Called once, as soon as the app runs again, with what the copies will be (sizes, identities,
   * the pause), while the device may still be copying: the copies can be read only once the
   * snapshot resolves. A device (or run) that has no early report does not call it.
   */
  onResumed?: (report: SnapshotResult) => void;
}

export interface StreamOptions {
  signal?: AbortSignal;
  idleTimeoutMs?: number;
}

export interface ReceiveOptions extends StreamOptions {
  /** Bytes sent so far, as they leave for the device. */
  onProgress?: (bytes: number) => void;
  /** The volume's size if known: a device without room for it refuses before any byte. */
  sizeBytes?: number;
}

/** A file streamed from the device; `done` rejects if the device could not send all of it. */
export interface FileStream {
  stdout: Readable;
  done: Promise<void>;
}

/** `image`: the one `current` points at, or an image file by its sha256 (an initrd). */
export type StreamedFile = { copy: string } | { image: 'current' } | { image: string };

function shortName(value: string, what: string): string {
  if (!isAppId(value)) throw new Error(`not a ${what}: ${JSON.stringify(value)}`);
  return value;
}

/**
 * A run's tag: a short name that cannot be read as one of the restore names, so the file
 * names of copies, restores and replaced volumes never overlap.
 */
function runTag(value: string): string {
  if (!isAppId(value) || /^(restore|replaced)-/.test(value))
    throw new Error(`not a tag: ${JSON.stringify(value)}`);
  return value;
}

function copyFailure(what: string, result: { code: number | null; stderr: string }): HearthError {
  if (result.code === BUSY_STATUS) return new HearthError('BACKUP_BUSY');
  if (result.code === DISK_FULL_STATUS || /hearth: disk-full|no space left/i.test(result.stderr))
    return new HearthError('BACKUP_DEVICE_DISK_FULL');
  return operationFailed(what, result);
}

export class DeviceClient {
  readonly session: SshSession;
  readonly deviceId: DeviceId;

  constructor(session: SshSession, deviceId: DeviceId) {
    this.session = session;
    this.deviceId = deviceId;
  }

  // --- What runs, and how it is doing --------------------------------------------------------

  /** The state of every app on the device, in one command. */
  async appStatuses(options: ScriptOptions = {}): Promise<RawAppStatus[]> {
    const out = await runOperation(this.session, 'status', [], statusScript, {
      timeoutMs: 15_000,
      ...options,
    });
    return parseStatus(out.stdout, this.deviceId);
  }

  /** systemd's view of one app's unit (for the health wait), or null if it says nothing. */
  async unitStatus(appId: AppId): Promise<RawAppStatus | null> {
    const out = await runOperation(
      this.session,
      'unit-status',
      [appId],
      `systemctl show -p ActiveState -p SubState -p Result -p NRestarts ${appUnit(appId)}`,
      { timeoutMs: 15_000 },
    );
    return parseStatus(`@app ${appId}\n${out.stdout}`)[0] ?? null;
  }

  /** dom0's IPv4 neighbour table (where Xen guests are found by their MAC). */
  async neighbours(): Promise<string[]> {
    const out = await runOperation(this.session, 'neighbours', [], 'ip -4 neigh show', {
      timeoutMs: 15_000,
    });
    return out.stdout.split('\n').slice(0, 1024);
  }

  /** Whether this boot's console output (since the launcher's marker) contains `pattern`. */
  async consoleShows(appId: AppId, pattern: string): Promise<boolean> {
    const log = shellQuote(appPaths(appId).consoleLog);
    const script = `line=$(grep -n '^${BOOT_MARKER}' ${log} 2>/dev/null | tail -n 1 | cut -d: -f1); tail -n +"\${line:-1}" ${log} 2>/dev/null | grep -qF -- ${shellQuote(pattern)}`;
    const out = await runOperation(this.session, 'console-shows', [appId], script, {
      timeoutMs: 15_000,
    });
    return out.code === 0;
  }

  /** The last `maxBytes` of the console, and the log's size (where following starts). */
  async consoleTail(appId: AppId, maxBytes = 32_768): Promise<ConsoleChunk> {
    const log = shellQuote(appPaths(appId).consoleLog);
    const out = await runOperation(
      this.session,
      'console-tail',
      [appId, maxBytes],
      `stat -c %s ${log} 2>/dev/null || echo 0; tail -c ${maxBytes} ${log} 2>/dev/null; true`,
      { timeoutMs: 15_000 },
    );
    return splitSize(out.stdout);
  }

  /** What the console printed after byte `offset` (at most `maxBytes`), and its new size. */
  async consoleSince(appId: AppId, offset: number, maxBytes = 65_536): Promise<ConsoleChunk> {
    const from = Math.max(0, Math.floor(offset));
    const log = shellQuote(appPaths(appId).consoleLog);
    const out = await runOperation(
      this.session,
      'console-since',
      [appId, from, maxBytes],
      `s=$(stat -c %s ${log} 2>/dev/null || echo 0); echo $s; if [ "$s" -gt ${from} ]; then tail -c +${from + 1} ${log} | head -c ${maxBytes}; fi; true`,
      { timeoutMs: 15_000 },
    );
    return splitSize(out.stdout);
  }

  // --- App folders ---------------------------------------------------------------------------

  /** Every app folder on the device (a removed app's kept data included). */
  async appFolders(): Promise<AppId[]> {
    const dir = shellQuote(deviceLayout.appsDir);
    const out = await runOperation(
      this.session,
      'app-folders',
      [],
      `ls -1A ${dir} 2>/dev/null || true`,
      { timeoutMs: 15_000 },
    );
    if (out.code !== 0) throw new HearthError('DEVICE_GARBLED');
    return out.stdout
      .split('\n')
      .map((name) => name.trim())
      .filter(isAppId);
  }

  /**
   * The app folder of an install of this very image that never finished (no spec.json yet, the
   * image or its partial upload there), so installing the same file again resumes there.
   */
  async unfinishedInstallOf(sha256: string): Promise<AppId | null> {
    if (!SHA256.test(sha256)) return null;
    const script = `cd ${shellQuote(deviceLayout.appsDir)} 2>/dev/null || exit 0; for d in *; do [ -d "$d/images" ] && [ ! -e "$d/spec.json" ] || continue; [ "$(head -c 16 "$d/data/.hearth-origin" 2>/dev/null || echo file)" = file ] || continue; if [ -e "$d/images/.${sha256}.partial" ] || [ -e "$d/images/${sha256}" ]; then echo "$d"; fi; done`;
    const out = await runOperation(this.session, 'unfinished-install', [sha256], script, {
      timeoutMs: 15_000,
    });
    return (
      out.stdout
        .split('\n')
        .map((line) => line.trim())
        .find(isAppId) ?? null
    );
  }

  /**
   * Where the app in this folder came from, or null for a new folder. A folder from before the
   * origin was recorded is judged by its spec.json (file installs have a "file …" version).
   */
  async origin(appId: AppId, options: ScriptOptions = {}): Promise<AppOrigin | null> {
    const p = appPaths(appId);
    const spec = shellQuote(p.spec);
    const out = await runOperation(
      this.session,
      'read-origin',
      [appId],
      `head -c 64 ${shellQuote(p.origin)} 2>/dev/null && exit 0; if grep -q '"version":"file ' ${spec} 2>/dev/null; then echo file; elif [ -e ${spec} ]; then echo catalog; fi; true`,
      { timeoutMs: 15_000, ...options },
    );
    const said = out.stdout.trim();
    return said === 'catalog' || said === 'file' ? said : null;
  }

  /** Records where the app came from, so another app of the same id never takes its data. */
  async setOrigin(appId: AppId, origin: AppOrigin, options: ScriptOptions = {}): Promise<void> {
    await this.writeAppFiles(
      appId,
      [{ name: 'data/.hearth-origin', content: `${origin}\n`, mode: '0644' }],
      options,
    );
  }

  /** The app's folder with room for images and data; the hearth account's alone. */
  async prepareAppFolder(appId: AppId, options: ScriptOptions = {}): Promise<void> {
    const p = appPaths(appId);
    await checkOperation(
      this.session,
      'prepare-app',
      [appId],
      `mkdir -p ${shellQuote(p.images)} ${shellQuote(p.data)} && chmod 0750 ${shellQuote(p.dir)}`,
      'make room for the app',
      options,
    );
  }

  /**
   * Puts a verified local file at images/<sha256> unless it is already there. The upload goes
   * to a hidden partial name that is resumed after a cut; only a copy whose hash matches is
   * renamed into place, so a partial image can never be started.
   */
  async placeImage(
    appId: AppId,
    sha256: string,
    localPath: string,
    options: PlaceImageOptions,
  ): Promise<{ placed: boolean; resumedFrom: number }> {
    const p = appPaths(appId);
    const final = shellQuote(p.image(sha(sha256)));
    const partial = p.partialImage(sha256);
    const present = await checkOperation(
      this.session,
      'image-hash',
      [appId, sha256],
      `${sha256Function}
if [ -f ${final} ]; then sha256_of ${final} | cut -d' ' -f1; fi`,
      'look at its images',
      options,
    );
    if (present.trim() === sha256) return { placed: false, resumedFrom: 0 };
    const { resumedFrom } = await this.session.uploadFile(partial, localPath, {
      mode: 0o600,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    const check = await checkOperation(
      this.session,
      'partial-hash',
      [appId, sha256],
      `${sha256Function}
sha256_of ${shellQuote(partial)} | cut -d' ' -f1`,
      'check the image',
      options,
    );
    if (check.trim() !== sha256) {
      await checkOperation(
        this.session,
        'drop-partial',
        [appId, sha256],
        `rm -f ${shellQuote(partial)}`,
        'clean up',
        options,
      );
      throw new HearthError('APP_DAMAGED_IN_TRANSIT');
    }
    // The rename is the moment the image becomes usable: it is complete and verified.
    await checkOperation(
      this.session,
      'keep-image',
      [appId, sha256],
      `chmod 0444 ${shellQuote(partial)} && mv -f ${shellQuote(partial)} ${final}`,
      'store the image',
      options,
    );
    return { placed: true, resumedFrom };
  }

  /** Whether every one of these images is on the device and matches its hash. */
  async imagesIntact(appId: AppId, hashes: readonly string[], options: ScriptOptions = {}) {
    const checked = hashes.map(sha);
    if (checked.length === 0) return false;
    const p = appPaths(appId);
    const out = await checkOperation(
      this.session,
      'images-intact',
      [appId, ...checked],
      // sha256sum exits 1 when an image is missing: that is "not intact", not a failed step.
      `cd ${shellQuote(p.images)} 2>/dev/null || exit 0; sha256sum ${checked.join(' ')} 2>/dev/null; true`,
      'check the app',
      options,
    );
    return checked.every((hash) => out.includes(`${hash}  ${hash}`));
  }

  /** Creates the sparse data volumes that are missing; true when it made any. */
  async ensureVolumes(
    appId: AppId,
    volumes: readonly { name: string; sizeMiB: number }[],
    options: ScriptOptions = {},
  ): Promise<boolean> {
    if (volumes.length === 0) return false;
    const p = appPaths(appId);
    const script = volumes
      .map((v) => {
        if (!isAppId(v.name) || !Number.isInteger(v.sizeMiB) || v.sizeMiB < 1)
          throw new Error(`not a volume: ${JSON.stringify(v)}`);
        const file = shellQuote(p.volume(v.name));
        // `|| exit 1`: the script's status must not be only the last volume's.
        return `[ -f ${file} ] || { truncate -s ${v.sizeMiB}M ${file}.new && mv ${file}.new ${file} && echo created; } || exit 1`;
      })
      .join('; ');
    const out = await checkOperation(
      this.session,
      'ensure-volumes',
      [appId, ...volumes.map((v) => `${v.name}:${v.sizeMiB}`)],
      script,
      'create its storage',
      options,
    );
    return out.includes('created');
  }

  /**
   * What a (re)install needs to know: the spec.json an earlier install left (or ''), and
   * whether the hearth account may use KVM here (it can open /dev/kvm, and no app has yet
   * found that KVM cannot run guests: each failed try costs systemd's whole restart burst).
   */
  async installFacts(appId: AppId, options: ScriptOptions = {}) {
    const p = appPaths(appId);
    const marker = shellQuote(deviceLayout.kvmUnusable);
    const out = await checkOperation(
      this.session,
      'install-facts',
      [appId],
      `if [ -e ${marker} ] || ! [ -r /dev/kvm -a -w /dev/kvm ]; then echo no-kvm; else echo kvm; fi; head -c 16384 ${shellQuote(p.spec)} 2>/dev/null; true`,
      'read its settings',
      options,
    );
    const [first = '', ...rest] = out.split('\n');
    return { kvmUsable: first.trim() === 'kvm', specText: rest.join('\n').trim() };
  }

  /** Remembers that KVM cannot run guests here: apps use emulation from then on. */
  async markKvmUnusable(options: ScriptOptions = {}): Promise<void> {
    await checkOperation(
      this.session,
      'kvm-unusable',
      [],
      `touch ${shellQuote(deviceLayout.kvmUnusable)}`,
      'note what it learned',
      options,
    );
  }

  /** Each file written beside its final name and renamed in, so none is ever half-written. */
  async writeAppFiles(appId: AppId, files: readonly AppFile[], options: ScriptOptions = {}) {
    const dir = appPaths(appId).dir;
    for (const file of files) {
      if (
        !/^(data\/)?[A-Za-z0-9.][A-Za-z0-9._-]{0,63}$/.test(file.name) ||
        file.name.includes('..') ||
        !/^0[0-7]{3}$/.test(file.mode)
      )
        throw new Error(`not an app file: ${JSON.stringify(file.name)} ${file.mode}`);
      const path = `${dir}/${file.name}`;
      const temp = `${path}.hearth-new`;
      await this.session.writeFile(temp, file.content, Number.parseInt(file.mode, 8));
      await checkOperation(
        this.session,
        'keep-file',
        [appId, file.name.replace('/', ':')],
        `chmod ${file.mode} ${shellQuote(temp)} && mv -f ${shellQuote(temp)} ${shellQuote(path)}`,
        'save its settings',
        options,
      );
    }
  }

  /** Points `current` at images/<sha256>, atomically (a rename of a new symlink). */
  async switchCurrent(appId: AppId, sha256: string, options: ScriptOptions = {}): Promise<void> {
    const p = appPaths(appId);
    await checkOperation(
      this.session,
      'switch-current',
      [appId, sha(sha256)],
      `cd ${shellQuote(p.dir)} && ln -sfn images/${sha256} current.new && mv -T current.new current`,
      'switch to the new version',
      options,
    );
  }

  /** Stops and disables the app, then deletes its folder, or all of it but its data. */
  async removeApp(appId: AppId, deleteData: boolean): Promise<void> {
    const dir = shellQuote(appPaths(appId).dir);
    const files = deleteData
      ? `rm -rf ${dir}`
      : `find ${dir} -mindepth 1 -maxdepth 1 ! -name data -exec rm -rf {} +`;
    await checkOperation(
      this.session,
      'remove-app',
      [appId, deleteData ? 'all' : 'keep-data'],
      // Files go only once the unit is stopped and disabled: never a running app's folder. Its
      // sleep units go first, so no visit wakes it meanwhile (an agent from before sleeping
      // refuses the verb: nothing to take away then).
      `{ ${agentCommand('sleep-off', appId)} 2>/dev/null || true; } && ${agentCommand('stop', appId)} && ${agentCommand('disable', appId)} && ${files}`,
      'remove the app',
    );
  }

  // --- Lifecycle, through the root agent -----------------------------------------------------

  /** start, stop or restart; a start first clears a unit systemd gave up on. */
  async control(appId: AppId, verb: 'start' | 'stop' | 'restart'): Promise<void> {
    // A gave-up unit must be reset before systemd will start it again.
    const reset = verb === 'stop' ? '' : `${agentCommand('reset-failed', appId)}; `;
    await checkOperation(
      this.session,
      'control',
      [appId, verb],
      `${reset}${agentCommand(verb, appId)}`,
      `${verb} the app`,
    );
  }

  /**
   * "Sleep when idle" on: the agent writes the app's socket and proxy units from the sleep file
   * (writeAppFiles wrote it) and lets the app sleep. Off: the units go, and the app starts at
   * boot and now, as before.
   */
  async setSleep(appId: AppId, on: boolean, options: ScriptOptions = {}): Promise<void> {
    await checkOperation(
      this.session,
      'sleep',
      [appId, on ? 'on' : 'off'],
      on
        ? agentCommand('sleep-on', appId)
        : `${agentCommand('sleep-off', appId)} && ${agentCommand('reset-failed', appId)}; ${agentCommand('enable', appId)} && ${agentCommand('restart', appId)}`,
      on ? 'let the app sleep when idle' : 'keep the app running',
      options,
    );
  }

  /**
   * Starts the app at every boot and (re)starts it now. systemd's start limit also counts
   * starts by hand, so it is reset first; a start job that fails at once (KVM that cannot run
   * the guest) is not the end: the health wait judges it and may fall back.
   */
  async enableAndRestart(appId: AppId, options: ScriptOptions = {}): Promise<void> {
    await checkOperation(
      this.session,
      'enable-restart',
      [appId],
      `${agentCommand('reset-failed', appId)}; ${agentCommand('enable', appId)} && { ${agentCommand('restart', appId)} || true; }`,
      'start the app',
      options,
    );
  }

  // --- Backups and restores -------------------------------------------------------------------

  /**
   * Consistent copies of the app's volumes, in one script: it checks the data disk can hold
   * them (BACKUP_DEVICE_DISK_FULL before any pause), pauses the VM if it runs, copies each
   * volume (reflinked where the filesystem can, sparse otherwise) to `<vol>.img.<tag>`,
   * resumes at once, and reports the paused time measured on the device. The app is never
   * left paused: the work runs detached on the device, so a lost connection or a cancel here
   * does not stop it, and a watchdog resumes the VM if a copy hangs. Copies left by a run
   * that was cut go at removeStaleCopies.
   */
  async snapshotVolumes(
    appId: AppId,
    volumes: string[],
    tag: string,
    options: SnapshotOptions = {},
  ): Promise<SnapshotResult> {
    const p = appPaths(appId);
    runTag(tag);
    if (volumes.length === 0 || volumes.length > MAX_SNAPSHOT_VOLUMES)
      throw new Error('not a list of volumes');
    for (const volume of volumes) shortName(volume, 'volume');
    if (new Set(volumes).size !== volumes.length) throw new Error('a volume named twice');
    const watchdogSeconds = options.watchdogSeconds ?? SNAPSHOT_WATCHDOG_SECONDS;
    if (!Number.isInteger(watchdogSeconds) || watchdogSeconds < 1 || watchdogSeconds > 3600)
      throw new Error('not a watchdog time');
    const script = snapshotScript({
      dataDir: p.data,
      lockPath: p.copyLock,
      spec: p.spec,
      qmp: p.qmp,
      appId,
      unit: appUnit(appId),
      tag,
      watchdogSeconds,
      volumes,
    });
    const pathOf = (v: string) => p.volumeCopy(v, tag);
    const { onResumed } = options;
    let early = '';
    let told = !onResumed;
    const result = await runOperation(
      this.session,
      'snapshot-volumes',
      [appId, tag, ...volumes],
      script,
      {
        timeoutMs: (watchdogSeconds + 120) * 1000,
        ...(options.signal ? { signal: options.signal } : {}),
        onStdout: (chunk) => {
          if (told) return;
          early += chunk.toString('utf8');
          const end = early.indexOf(`\n${RESUMED_LINE}\n`);
          if (end < 0) return;
          told = true;
          // A garbled early report only means no early start; the final one is judged below.
          let report: SnapshotResult;
          try {
            report = parseSnapshot(early.slice(0, end), volumes, pathOf);
          } catch {
            return;
          }
          onResumed?.(report);
        },
      },
    );
    if (result.code !== 0) throw copyFailure('copy its data', result);
    const resumed = result.stdout.indexOf(`\n${RESUMED_LINE}\n`);
    const body =
      resumed < 0 ? result.stdout : result.stdout.slice(resumed + RESUMED_LINE.length + 2);
    return parseSnapshot(body, volumes, pathOf);
  }

  /** Deletes the copies (and restores) of one run, whole or partial; never a live volume. */
  async removeVolumeCopies(appId: AppId, tag: string, options: ScriptOptions = {}): Promise<void> {
    const { data: d, copyLock: lock } = appPaths(appId);
    runTag(tag);
    await this.#copyOperation(
      'remove-copies',
      [appId, tag],
      `[ -e ${shellQuote(d)} ] || exit 0
${dataDirCheck(d)}
${copyLock(lock)}
cd ${shellQuote(d)} || exit 1
rm -f -- *.img.${tag} *.img.${tag}.partial *.img.restore-${tag} *.img.restore-${tag}.partial .hearth-snapshot-${tag} .hearth-snapshot-${tag}.*`,
      'clean up after the backup',
      options,
    );
  }

  /**
   * Deletes what any earlier run that was killed left in the data folder: copies, partial
   * copies, received volumes, snapshot verdicts; the volumes a restore replaced only with
   * `includeReplaced`. Never a live volume, and a link is removed, never followed.
   */
  async removeStaleCopies(
    appId: AppId,
    options: ScriptOptions & { includeReplaced?: boolean } = {},
  ): Promise<void> {
    const { data: d, copyLock: lock } = appPaths(appId);
    const keep = options.includeReplaced ? '' : ` ! -name '*.img.replaced-*'`;
    const { includeReplaced: _, ...scriptOptions } = options;
    await this.#copyOperation(
      'remove-stale',
      [appId, options.includeReplaced ? 'with-replaced' : 'keep-replaced'],
      `[ -e ${shellQuote(d)} ] || exit 0
${dataDirCheck(d)}
${copyLock(lock)}
find ${shellQuote(d)} -mindepth 1 -maxdepth 1 \\( -type f -o -type l \\) \\( -name '*.img.?*' -o -name '.hearth-snapshot-*' \\)${keep} -exec rm -f -- {} +`,
      'clean up after an earlier backup',
      scriptOptions,
    );
  }

  /**
   * Streams a copy snapshotVolumes made (`{ copy: path }`, exactly a path it returned), or the
   * image `current` points at. Neither is read through a link.
   */
  readFileStream(appId: AppId, which: StreamedFile, options: StreamOptions = {}): FileStream {
    const p = appPaths(appId);
    let op: string;
    let args: string[];
    let script: string;
    if ('copy' in which) {
      const prefix = `${p.data}/`;
      const name = which.copy.startsWith(prefix) ? which.copy.slice(prefix.length) : '';
      const match = /^([a-z][a-z0-9-]{0,31})\.img\.([a-z][a-z0-9-]{0,31})$/.exec(name);
      const [, volume = '', tag = ''] = match ?? [];
      if (!match || !runTagOk(tag) || p.volumeCopy(volume, tag) !== which.copy)
        throw new Error(`not a volume copy: ${JSON.stringify(which.copy)}`);
      const f = shellQuote(which.copy);
      op = 'read-copy';
      args = [appId, volume, tag];
      script = `${dataDirCheck(p.data)}
if [ -L ${f} ] || [ ! -f ${f} ]; then echo "hearth: no such copy" >&2; exit 3; fi
exec cat -- ${f}`;
    } else if (which.image === 'current') {
      op = 'read-image';
      args = [appId, 'current'];
      script = `${currentImageScript(p.dir)}
exec cat -- "$f"`;
    } else if (SHA256.test(which.image)) {
      op = 'read-image';
      args = [appId, which.image];
      script = `${imageFileScript(p.image(which.image))}
exec cat -- "$f"`;
    } else throw new Error('not a file to stream');
    const stream = streamOperation(this.session, op, args, script, options);
    const done = stream.done.then((result) => {
      if (result.code !== 0) throw operationFailed('send its data', result);
    });
    // `done` is what the caller judges; a failure must not also surface as unhandled.
    done.catch(() => undefined);
    return { stdout: stream.stdout, done };
  }

  /**
   * The sha256 of each copy snapshotVolumes made under `tag`, computed on the device (the app
   * runs again meanwhile: the copies are what is hashed). Nothing crosses the link but the
   * hashes, so a run can tell its data is the last point's without streaming it.
   */
  async hashCopies(
    appId: AppId,
    tag: string,
    volumes: readonly string[],
    options: ScriptOptions = {},
  ): Promise<Map<string, string>> {
    const p = appPaths(appId);
    runTag(tag);
    if (volumes.length === 0 || volumes.length > MAX_SNAPSHOT_VOLUMES)
      throw new Error('not a list of volumes');
    for (const volume of volumes) shortName(volume, 'volume');
    const checks = volumes
      .map((volume) => {
        const f = shellQuote(p.volumeCopy(volume, tag));
        return `if [ -L ${f} ] || [ ! -f ${f} ]; then echo "hearth: no such copy" >&2; exit 3; fi
h=$(sha256_of ${f}) || exit 1
echo "${volume} \${h%% *}"`;
      })
      .join('\n');
    const out = await checkOperation(
      this.session,
      'hash-copies',
      [appId, tag, ...volumes],
      `${dataDirCheck(p.data)}
${sha256Function}
${checks}`,
      'check its data',
      { timeoutMs: HASH_TIMEOUT_MS, ...options },
    );
    const hashes = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [volume = '', hash = ''] = line.trim().split(' ');
      if (volumes.includes(volume) && SHA256.test(hash)) hashes.set(volume, hash);
    }
    if (volumes.some((v) => !hashes.has(v))) throw new HearthError('DEVICE_GARBLED');
    return hashes;
  }

  /** The image `current` points at: its hash and size (null when there is none). */
  async imageSize(
    appId: AppId,
    options: ScriptOptions = {},
  ): Promise<{ sha256: string; sizeBytes: number } | null> {
    const p = appPaths(appId);
    const result = await runOperation(
      this.session,
      'image-size',
      [appId],
      `[ -L ${shellQuote(p.current)} ] || exit 0
${currentImageScript(p.dir)}
echo "$h $(stat -c %s -- "$f")"`,
      { timeoutMs: 15_000, ...options },
    );
    if (result.code !== 0) throw operationFailed('read its image', result);
    const said = result.stdout.trim();
    if (said === '') return null;
    const [hash = '', size = ''] = said.split(' ');
    const sizeBytes = Number(size);
    if (!SHA256.test(hash) || !Number.isSafeInteger(sizeBytes) || sizeBytes < 0)
      throw new HearthError('DEVICE_GARBLED');
    return { sha256: hash, sizeBytes };
  }

  /** The size of one image file by its sha256 (an initrd beside the image); null when missing. */
  async imageFileSize(
    appId: AppId,
    sha256: string,
    options: ScriptOptions = {},
  ): Promise<number | null> {
    if (!SHA256.test(sha256)) throw new Error('not an image hash');
    const result = await runOperation(
      this.session,
      'image-file-size',
      [appId, sha256],
      `${imageFileScript(appPaths(appId).image(sha256))}
stat -c %s -- "$f"`,
      { timeoutMs: 15_000, ...options },
    );
    if (result.code === 3) return null;
    if (result.code !== 0) throw operationFailed('read its image', result);
    const sizeBytes = Number(result.stdout.trim());
    if (!/^\d{1,15}$/.test(result.stdout.trim()) || !Number.isSafeInteger(sizeBytes))
      throw new HearthError('DEVICE_GARBLED');
    return sizeBytes;
  }

  /**
   * Receives a volume from a backup: `input` is streamed into `<vol>.img.restore-<tag>.partial`
   * (cat's stdin, never a shell word), which is then made sparse again (data volumes are
   * sparse files; cat writes every zero), fsynced, hashed on the device and renamed to
   * `<vol>.img.restore-<tag>`. The caller compares the sha256 with the backup's manifest.
   * Disk full: BACKUP_DEVICE_DISK_FULL, the partial removed. A cancel or a cut leaves the
   * partial for removeStaleCopies.
   */
  async receiveVolume(
    appId: AppId,
    volume: string,
    tag: string,
    input: Readable,
    options: ReceiveOptions = {},
  ): Promise<{ path: string; sha256: string }> {
    const p = appPaths(appId);
    shortName(volume, 'volume');
    runTag(tag);
    const size = options.sizeBytes;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
      throw new Error('not a size');
    const restored = p.restoredVolume(volume, tag);
    const partial = shellQuote(`${restored}.partial`);
    const d = shellQuote(p.data);
    const room =
      size === undefined
        ? ''
        : `avail=$(df -Pk -- ${d} | awk 'NR == 2 { print $4 }')
if [ $((${Math.ceil(size / 1024)} + 1024)) -gt "$avail" ]; then echo "hearth: disk-full" >&2; exit ${DISK_FULL_STATUS}; fi
`;
    let sent = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        options.onProgress?.(sent);
        callback(null, chunk);
      },
    });
    input.on('error', (error) => counted.destroy(error));
    input.pipe(counted);
    const stream = streamOperation(
      this.session,
      'receive-volume',
      [appId, volume, tag, ...(size === undefined ? [] : [size])],
      // The copy lock: a clean-up or a snapshot must not remove or race the file being
      // written. set -C: the partial is created with O_EXCL after the rm, so a link put
      // there is never written through.
      `${dataDirCheck(p.data)}
${copyLock(p.copyLock)}
${room}rm -f -- ${partial}
set -C
if ! cat > ${partial}; then rm -f -- ${partial}; exit 1; fi`,
      {
        stdin: counted,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      },
    );
    stream.stdout.resume();
    const received = await stream.done.finally(() => input.unpipe(counted));
    if (received.code !== 0) throw copyFailure('receive its data', received);
    const out = await checkOperation(
      this.session,
      'keep-restore',
      [appId, volume, tag],
      `${dataDirCheck(p.data)}
${sha256Function}
if [ -L ${partial} ] || [ ! -f ${partial} ]; then echo "hearth: nothing was received" >&2; exit 3; fi
# Zeroed blocks become holes in place (no second copy needs room). Before the hash, so the
# hash is of the file that is swapped in; a filesystem that cannot punch holes keeps it whole.
fallocate --dig-holes -- ${partial} 2>/dev/null
sync -- ${partial} || exit 1
h=$(sha256_of ${partial}) || exit 1
mv -f -- ${partial} ${shellQuote(restored)} || exit 1
sync -- ${d} 2>/dev/null
echo "\${h%% *}"`,
      'check the data it received',
      { timeoutMs: HASH_TIMEOUT_MS, ...(options.signal ? { signal: options.signal } : {}) },
    );
    const sha256 = out.trim();
    if (!SHA256.test(sha256)) throw new HearthError('DEVICE_GARBLED');
    return { path: restored, sha256 };
  }

  /**
   * Makes the received volume the live one (the caller stopped the app). The live volume is
   * kept as `<vol>.img.replaced-<tag>` by a hard link, then the restored file is renamed over
   * the live name: at every moment the live name holds either the old or the new data. With
   * no live volume (a new device) a marker says so, for putBackVolume.
   */
  async swapInVolume(appId: AppId, volume: string, tag: string, options: ScriptOptions = {}) {
    const p = appPaths(appId);
    const { live, restored, replaced } = volumeNames(p, volume, tag);
    await checkOperation(
      this.session,
      'swap-in-volume',
      [appId, volume, tag],
      `${dataDirCheck(p.data)}
if [ -L ${restored} ] || [ ! -f ${restored} ]; then echo "hearth: no restored volume" >&2; exit 3; fi
if [ -L ${live} ] || { [ -e ${live} ] && [ ! -f ${live} ]; }; then echo "hearth: the volume is not a file" >&2; exit 3; fi
rm -f -- ${replaced} ${replaced}.none
if [ -e ${live} ]; then
  chmod --reference=${live} -- ${restored} 2>/dev/null
  ln -- ${live} ${replaced} || exit 1
else
  : > ${replaced}.none || exit 1
fi
mv -f -- ${restored} ${live} || exit 1
sync -- ${shellQuote(p.data)} 2>/dev/null; true`,
      'put the restored data in place',
      options,
    );
  }

  /** Undoes swapInVolume: the replaced volume is live again (or, if there was none, no volume). */
  async putBackVolume(appId: AppId, volume: string, tag: string, options: ScriptOptions = {}) {
    const p = appPaths(appId);
    const { live, replaced } = volumeNames(p, volume, tag);
    await checkOperation(
      this.session,
      'put-back-volume',
      [appId, volume, tag],
      `${dataDirCheck(p.data)}
if [ -f ${replaced} ] && [ ! -L ${replaced} ]; then
  mv -f -- ${replaced} ${live} || exit 1
elif [ -f ${replaced}.none ] && [ ! -L ${replaced}.none ]; then
  if [ -L ${live} ] || { [ -e ${live} ] && [ ! -f ${live} ]; }; then echo "hearth: the volume is not a file" >&2; exit 3; fi
  rm -f -- ${live} || exit 1
else
  echo "hearth: nothing to put back" >&2; exit 3
fi
rm -f -- ${replaced}.none
sync -- ${shellQuote(p.data)} 2>/dev/null; true`,
      'put its own data back',
      options,
    );
  }

  /** Deletes the volume a restore replaced, once the restored app proved healthy. */
  async dropReplaced(appId: AppId, volume: string, tag: string, options: ScriptOptions = {}) {
    const p = appPaths(appId);
    const { replaced } = volumeNames(p, volume, tag);
    await checkOperation(
      this.session,
      'drop-replaced',
      [appId, volume, tag],
      `rm -f -- ${replaced} ${replaced}.none`,
      'clean up after the restore',
      options,
    );
  }

  /** The app's spec.json as it is on the device (null when there is none). */
  async readSpecText(appId: AppId, options: ScriptOptions = {}): Promise<string | null> {
    const spec = shellQuote(appPaths(appId).spec);
    const out = await checkOperation(
      this.session,
      'read-spec',
      [appId],
      `if [ -f ${spec} ] && [ ! -L ${spec} ]; then echo yes; head -c ${MAX_SPEC_BYTES + 1} ${spec}; else echo no; fi`,
      'read its settings',
      { timeoutMs: 15_000, ...options },
    );
    const newline = out.indexOf('\n');
    if (out.slice(0, newline) !== 'yes') return null;
    const text = out.slice(newline + 1);
    if (Buffer.byteLength(text) > MAX_SPEC_BYTES) throw new HearthError('DEVICE_GARBLED');
    return text;
  }

  /** A script about copies: BACKUP_BUSY while a snapshot holds the lock, disk full as such. */
  async #copyOperation(
    op: string,
    args: readonly string[],
    script: string,
    what: string,
    options: ScriptOptions,
  ): Promise<string> {
    const result = await runOperation(this.session, op, args, script, {
      timeoutMs: 60_000,
      ...options,
    });
    if (result.code !== 0) throw copyFailure(what, result);
    return result.stdout;
  }

  // --- Consistent copies and small state (backups, updates) ----------------------------------

  /** Pauses the app's VM (QEMU's QMP `stop`), so its volumes stop changing. */
  async pause(appId: AppId): Promise<void> {
    await checkOperation(
      this.session,
      'pause',
      [appId],
      `${shellQuote(appPaths(appId).qmp)} stop`,
      'pause the app',
    );
  }

  /** Resumes a paused VM (QMP `cont`). */
  async resume(appId: AppId): Promise<void> {
    await checkOperation(
      this.session,
      'resume',
      [appId],
      `${shellQuote(appPaths(appId).qmp)} cont`,
      'resume the app',
    );
  }

  /**
   * Copies one data volume to `<app>/data/<volume>.img.<tag>`, sparse, finished before it is
   * visible under that name; returns the copy's path on the device.
   */
  async copyVolume(appId: AppId, volume: string, tag: string, options: ScriptOptions = {}) {
    if (!isAppId(volume) || !isAppId(tag)) throw new Error('not a volume or a tag');
    const from = appPaths(appId).volume(volume);
    const to = `${from}.${tag}`;
    await checkOperation(
      this.session,
      'copy-volume',
      [appId, volume, tag],
      `cp --sparse=always ${shellQuote(from)} ${shellQuote(`${to}.partial`)} && mv -f ${shellQuote(`${to}.partial`)} ${shellQuote(to)}`,
      'copy its data',
      options,
    );
    return to;
  }

  /** A small JSON state file of the app (null when there is none or it is not JSON). */
  async readState(appId: AppId, name: string): Promise<unknown> {
    const path = shellQuote(appPaths(appId).state(stateName(name)));
    const out = await runOperation(
      this.session,
      'read-state',
      [appId, name],
      `head -c ${MAX_STATE_BYTES} ${path} 2>/dev/null; true`,
      { timeoutMs: 15_000 },
    );
    if (!out.stdout.trim()) return null;
    try {
      return JSON.parse(out.stdout) as unknown;
    } catch {
      return null;
    }
  }

  /** Writes a state file atomically (beside it, synced, renamed in): it survives a crash. */
  async writeState(appId: AppId, name: string, value: unknown): Promise<void> {
    const text = `${JSON.stringify(value)}\n`;
    if (Buffer.byteLength(text) > MAX_STATE_BYTES) throw new Error('state too large');
    const p = appPaths(appId);
    const path = p.state(stateName(name));
    const dir = path.slice(0, path.lastIndexOf('/'));
    await checkOperation(
      this.session,
      'state-dir',
      [appId],
      `mkdir -p ${shellQuote(dir)}`,
      'save its state',
    );
    await this.session.writeFile(`${path}.hearth-new`, text, 0o640);
    await checkOperation(
      this.session,
      'write-state',
      [appId, name],
      `sync ${shellQuote(`${path}.hearth-new`)} 2>/dev/null; mv -f ${shellQuote(`${path}.hearth-new`)} ${shellQuote(path)}`,
      'save its state',
    );
  }
}

function runTagOk(tag: string): boolean {
  return isAppId(tag) && !/^(restore|replaced)-/.test(tag);
}

function volumeNames(p: ReturnType<typeof appPaths>, volume: string, tag: string) {
  shortName(volume, 'volume');
  runTag(tag);
  return {
    live: shellQuote(p.volume(volume)),
    restored: shellQuote(p.restoredVolume(volume, tag)),
    replaced: shellQuote(p.replacedVolume(volume, tag)),
  };
}

/**
 * Sets $h and $f to the hash and path of the image `current` points at, or exits 3: the link
 * must read exactly images/<sha256>, and the image be a file, not a link.
 */
/** Sets `f` to one image file, refusing a link or anything that is not a plain file (exit 3). */
function imageFileScript(path: string): string {
  return `f=${shellQuote(path)}
if [ -L "$f" ] || [ ! -f "$f" ]; then echo "hearth: no such image" >&2; exit 3; fi`;
}

function currentImageScript(appDir: string): string {
  return `cd ${shellQuote(appDir)} || exit 3
t=$(readlink -- current) || { echo "hearth: no current image" >&2; exit 3; }
h=\${t#images/}
case "$t" in images/*) ;; *) echo "hearth: current is not an image" >&2; exit 3 ;; esac
case "$h" in *[!0-9a-f]*) echo "hearth: current is not an image" >&2; exit 3 ;; esac
[ \${#h} -eq 64 ] || { echo "hearth: current is not an image" >&2; exit 3; }
f="images/$h"
if [ -L "$f" ] || [ ! -f "$f" ]; then echo "hearth: the current image is missing" >&2; exit 3; fi`;
}

/**
 * The snapshot's report: `copy <vol> <size>` and `identity <vol> <size> <mtime> <ctime>
 * <inode>` each, `paused-ms <n>`, `was-running yes|no`. An identity that is missing or not
 * stat's is null (the next run then just cannot skip), never a failed backup.
 */
function parseSnapshot(
  stdout: string,
  volumes: readonly string[],
  pathOf: (volume: string) => string,
): SnapshotResult {
  const lines = stdout.split('\n').map((line) => line.trim());
  const sizes = new Map<string, number>();
  const identities = new Map<string, VolumeIdentity>();
  let pausedMs = NaN;
  let wasRunning: boolean | null = null;
  const time = /^\d{1,12}\.\d{9}$/;
  for (const line of lines) {
    const [key = '', a = '', b = '', c = '', d = '', e = ''] = line.split(' ');
    if (key === 'copy' && volumes.includes(a)) sizes.set(a, Number(b));
    else if (key === 'identity' && volumes.includes(a)) {
      const sizeBytes = Number(b);
      if (Number.isSafeInteger(sizeBytes) && time.test(c) && time.test(d) && /^\d{1,20}$/.test(e))
        identities.set(a, { sizeBytes, mtime: c, ctime: d, inode: e });
    } else if (key === 'paused-ms') pausedMs = Number(a);
    else if (key === 'was-running') wasRunning = a === 'yes';
  }
  const copies = volumes.map((volume) => ({
    volume,
    path: pathOf(volume),
    sizeBytes: sizes.get(volume) ?? NaN,
    identity: identities.get(volume) ?? null,
  }));
  if (
    wasRunning === null ||
    !Number.isSafeInteger(pausedMs) ||
    pausedMs < 0 ||
    copies.some((c) => !Number.isSafeInteger(c.sizeBytes) || c.sizeBytes < 0)
  )
    throw new HearthError('DEVICE_GARBLED');
  return { copies, pausedMs, wasRunning };
}

function splitSize(stdout: string): ConsoleChunk {
  const newline = stdout.indexOf('\n');
  const head = newline < 0 ? stdout : stdout.slice(0, newline);
  const size = Number(head.trim());
  return {
    size: Number.isSafeInteger(size) && size >= 0 ? size : 0,
    text: newline < 0 ? '' : stdout.slice(newline + 1),
  };
}
