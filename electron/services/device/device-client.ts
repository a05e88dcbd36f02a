// Every operation Hearth performs on a prepared device, as a typed method over one SSH session
// as the hearth account. Apps, backups and updates call these; none of them builds a device
// path or a remote command. Root is reached only through the agent (agent-protocol.ts).
import { HearthError } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import { isAppId } from '../../../shared/ids';
import type { SshSession } from '../ssh/ssh-session';
import { agentCommand } from './agent-protocol';
import type { RawAppStatus } from './app-status-report';
import { BOOT_MARKER, parseStatus, statusScript } from './app-status-report';
import { appPaths, appUnit, deviceLayout } from './layout';
import type { ScriptOptions } from './remote-script';
import { checkOperation, runOperation } from './remote-script';
import { shellQuote } from './shell-quote';

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_STATE_BYTES = 64 * 1024;

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
      `if [ -f ${final} ]; then sha256sum ${final} | cut -d' ' -f1; fi`,
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
      `sha256sum ${shellQuote(partial)} | cut -d' ' -f1`,
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
      // Files go only once the unit is stopped and disabled: never a running app's folder.
      `${agentCommand('stop', appId)} && ${agentCommand('disable', appId)} && ${files}`,
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

  // --- Consistent copies and small state (backups, updates) ----------------------------------

  /** Pauses the app's VM (QEMU's QMP `stop`), so its volumes stop changing. */
  async pause(appId: AppId): Promise<void> {
    await checkOperation(
      this.session,
      'pause',
      [appId],
      `${shellQuote(`${appPaths(appId).dir}/qmp`)} stop`,
      'pause the app',
    );
  }

  /** Resumes a paused VM (QMP `cont`). */
  async resume(appId: AppId): Promise<void> {
    await checkOperation(
      this.session,
      'resume',
      [appId],
      `${shellQuote(`${appPaths(appId).dir}/qmp`)} cont`,
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

function splitSize(stdout: string): ConsoleChunk {
  const newline = stdout.indexOf('\n');
  const head = newline < 0 ? stdout : stdout.slice(0, newline);
  const size = Number(head.trim());
  return {
    size: Number.isSafeInteger(size) && size >= 0 ? size : 0,
    text: newline < 0 ? '' : stdout.slice(newline + 1),
  };
}
