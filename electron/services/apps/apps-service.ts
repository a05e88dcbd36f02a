// The apps on every device: installs them, starts and stops them, and keeps an eye on
// them. One refresh command per device per round returns the state of all its apps;
// changes are published as apps:changed. A device that does not answer is shown offline
// and retried with backoff, coming back by itself.
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord, InstalledApp } from '../../../shared/model';
import type { DeviceStore } from '../devices/device-store';
import { agentCommand } from '../device/agent-protocol';
import { shellQuote } from '../device/shell-quote';
import type { SshSession } from '../ssh/ssh-session';
import type { TaskManager } from '../tasks/task-manager';
import { installApp, installSteps, targetFor, writeAppFiles } from './app-installer';
import type { AppCatalogPort, LauncherPort } from './app-ports';
import { parseAppSpec } from './app-spec';
import type { AppSpec } from './app-spec';
import { APPS_DIR, interpret, parseStatus, statusScript } from './app-status';
import type { DeviceSessions } from './device-sessions';
import { appEndpoint, guestAddressOf, probeOnce } from './health-probe';
import { LinkHosts } from './link-host';

export interface AppsServiceDeps {
  devices: DeviceStore;
  sessions: DeviceSessions;
  tasks: TaskManager;
  catalog: AppCatalogPort;
  launcher: LauncherPort;
  publish: (apps: InstalledApp[]) => void;
  publishConsole: (event: { deviceId: string; appId: string; lines: string[] }) => void;
  refreshMs?: number;
  /** Which name "Open" links use for a device (its .local name when this computer resolves it). */
  linkHosts?: LinkHosts;
}

interface Known {
  device: DeviceRecord;
  spec: AppSpec;
  app: InstalledApp;
}

const CONSOLE_FOLLOW_MS = 10 * 60_000;

export class AppsService {
  readonly #deps: AppsServiceDeps;
  readonly #known = new Map<string, Known>();
  readonly #offline = new Map<string, { until: number; delay: number }>();
  readonly #installing = new Map<string, string>();
  readonly #following = new Map<string, { until: number; offset: number }>();
  readonly #linkHosts: LinkHosts;
  /** Bumped when a device is forgotten: a refresh that began before must not bring it back. */
  readonly #epochs = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #lastPublished = '';

  constructor(deps: AppsServiceDeps) {
    this.#deps = deps;
    this.#linkHosts = deps.linkHosts ?? new LinkHosts();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#deps.sessions.closeAll();
  }

  /** Stops watching a device this computer no longer looks after; its apps keep running there. */
  forgetDevice(deviceId: string): void {
    for (const key of [...this.#known.keys(), ...this.#following.keys()])
      if (key.startsWith(`${deviceId}/`)) {
        this.#known.delete(key);
        this.#following.delete(key);
      }
    this.#offline.delete(deviceId);
    this.#epochs.set(deviceId, (this.#epochs.get(deviceId) ?? 0) + 1);
    this.#deps.sessions.close(deviceId);
    this.#publishIfChanged();
  }

  list(): InstalledApp[] {
    return [...this.#known.values()].map((k) => structuredClone(k.app));
  }

  /**
   * Resolves the app first (so the task has its name, and "no build for this device" is said at
   * once). `catalog` is the catalog by default, or the port of an image the owner chose.
   */
  async install(
    deviceId: string,
    appId: string,
    catalog: AppCatalogPort = this.#deps.catalog,
  ): Promise<string> {
    const device = await this.#deps.devices.get(deviceId);
    const resolved = await catalog.resolve(appId, targetFor(device));
    const handle = this.#deps.tasks.run(
      {
        kind: 'app-install',
        title: `Install ${resolved.name} on ${device.name}`,
        steps: [...installSteps],
      },
      async (ctx) => {
        this.#installing.set(`${deviceId}/${appId}`, ctx.signal.aborted ? '' : 'installing');
        try {
          const spec = await installApp(
            {
              catalog,
              launcher: this.#deps.launcher,
              session: (id) => this.#deps.sessions.session(id),
              waitHealthy: (d, s, timeoutMs, signal) => this.#waitHealthy(d, s, timeoutMs, signal),
            },
            device,
            appId,
            ctx,
          );
          await this.refreshDevice(device);
          return { value: undefined, summary: `${spec.name} is running on ${device.name}.` };
        } finally {
          this.#installing.delete(`${deviceId}/${appId}`);
          void this.refreshDevice(device);
        }
      },
    );
    return handle.id;
  }

  /**
   * App ids in use on the device: the apps Hearth sees, and every folder under the apps
   * directory (a removed app's kept data included), so a new app never takes over old files.
   */
  async appIdsOn(deviceId: string): Promise<Set<string>> {
    const taken = new Set<string>();
    for (const known of this.#known.values())
      if (known.device.id === deviceId) taken.add(known.spec.appId);
    const session = await this.#deps.sessions.session(deviceId);
    const out = await session.exec(
      `sh -c ${shellQuote(`ls -1A ${APPS_DIR} 2>/dev/null || true`)}`,
      {
        timeoutMs: 15_000,
      },
    );
    if (out.code !== 0) throw new HearthError('DEVICE_GARBLED');
    for (const name of out.stdout.split('\n')) if (name.trim()) taken.add(name.trim());
    return taken;
  }

  /**
   * The app folder of an install of this very image that never finished (no spec.json yet, the
   * image or its partial upload there), so installing the same file again resumes it there.
   */
  async unfinishedInstallOf(deviceId: string, sha256: string): Promise<string | null> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
    const session = await this.#deps.sessions.session(deviceId);
    const script = `cd ${APPS_DIR} 2>/dev/null || exit 0; for d in *; do [ -d "$d/images" ] && [ ! -e "$d/spec.json" ] || continue; if [ -e "$d/images/.${sha256}.partial" ] || [ -e "$d/images/${sha256}" ]; then echo "$d"; fi; done`;
    const out = await session.exec(`sh -c ${shellQuote(script)}`, { timeoutMs: 15_000 });
    return (
      out.stdout
        .split('\n')
        .map((line) => line.trim())
        .find((id) => /^[a-z][a-z0-9-]{0,31}$/.test(id)) ?? null
    );
  }

  async control(
    deviceId: string,
    appId: string,
    verb: 'start' | 'stop' | 'restart',
  ): Promise<null> {
    const { session } = await this.#app(deviceId, appId);
    // A gave-up unit must be reset before systemd will start it again.
    const reset = verb === 'stop' ? '' : `${agentCommand('reset-failed', appId)}; `;
    await this.#exec(session, `${reset}${agentCommand(verb, appId)}`, `${verb} the app`);
    await this.refreshDevice(await this.#deps.devices.get(deviceId));
    return null;
  }

  async remove(
    deviceId: string,
    appId: string,
    confirmDeleteData?: string,
  ): Promise<{ dataDeleted: boolean }> {
    const { session, known } = await this.#app(deviceId, appId);
    const deleteData =
      confirmDeleteData !== undefined && confirmDeleteData.trim() === known.spec.name;
    const dir = `${APPS_DIR}/${appId}`;
    const keep = deleteData
      ? `rm -rf ${dir}`
      : `find ${dir} -mindepth 1 -maxdepth 1 ! -name data -exec rm -rf {} +`;
    await this.#exec(
      session,
      `${agentCommand('stop', appId)}; ${agentCommand('disable', appId)}; ${keep}`,
      'remove the app',
    );
    this.#known.delete(`${deviceId}/${appId}`);
    this.#publishIfChanged();
    return { dataDeleted: deleteData };
  }

  async setMemory(deviceId: string, appId: string, memoryMiB: number): Promise<null> {
    const { session, known } = await this.#app(deviceId, appId);
    const spec = { ...known.spec, memoryMiB };
    await writeAppFiles(
      { launcher: this.#deps.launcher },
      session,
      known.device,
      spec,
      new AbortController().signal,
    );
    await this.#exec(session, `${agentCommand('restart', appId)}`, 'restart the app');
    await this.refreshDevice(known.device);
    return null;
  }

  /** The recent console, and new lines as events for the next minutes. */
  async console(deviceId: string, appId: string): Promise<{ lines: string[] }> {
    const { session } = await this.#app(deviceId, appId);
    const log = `${APPS_DIR}/${appId}/console.log`;
    const out = await session.exec(
      `sh -c ${shellQuote(`stat -c %s ${log} 2>/dev/null || echo 0; tail -c 32768 ${log} 2>/dev/null`)}`,
      { timeoutMs: 15_000 },
    );
    const [size, ...rest] = out.stdout.split('\n');
    this.#following.set(`${deviceId}/${appId}`, {
      until: Date.now() + CONSOLE_FOLLOW_MS,
      offset: Number(size) || 0,
    });
    return { lines: clean(rest.join('\n')).slice(-500) };
  }

  async refreshDevice(device: DeviceRecord): Promise<void> {
    const backoff = this.#offline.get(device.id);
    if (backoff && backoff.until > Date.now()) return;
    const epoch = this.#epochs.get(device.id) ?? 0;
    const forgotten = () => (this.#epochs.get(device.id) ?? 0) !== epoch;
    let session: SshSession;
    let output: string;
    try {
      session = await this.#deps.sessions.session(device.id);
      output = (await session.exec(`sh -c ${shellQuote(statusScript)}`, { timeoutMs: 15_000 }))
        .stdout;
      if (forgotten()) return;
      this.#offline.delete(device.id);
    } catch {
      if (forgotten()) return;
      const delay = Math.min((backoff?.delay ?? 1_000) * 2, 30_000);
      this.#offline.set(device.id, { until: Date.now() + delay, delay });
      for (const known of this.#known.values()) {
        if (known.device.id === device.id)
          known.app = {
            ...known.app,
            state: 'offline',
            message: `${device.name} is not answering. Hearth keeps trying; the app may still be running.`,
          };
      }
      this.#publishIfChanged();
      return;
    }
    const seen = new Set<string>();
    for (const status of parseStatus(output, device.id)) {
      const spec = parseAppSpec(status.specText);
      if (!spec) continue;
      const key = `${device.id}/${spec.appId}`;
      seen.add(key);
      let probeHealthy: boolean | null = null;
      if (spec.health.kind !== 'console' && status.activeState === 'active')
        probeHealthy = await probeOnce(session, device, spec, status.guestAddress).catch(
          () => false,
        );
      if (forgotten()) return;
      const { state, message } = interpret(status, spec.name, probeHealthy);
      const host = this.#linkHosts.hostFor(device);
      this.#known.set(key, {
        device,
        spec,
        app: {
          deviceId: device.id,
          deviceName: device.name,
          appId: spec.appId,
          name: spec.name,
          version: spec.version,
          state: this.#installing.has(key) && state !== 'running' ? 'installing' : state,
          restarts: status.restarts,
          runningSince: state === 'running' ? status.startedAt : null,
          memoryBytes: status.memoryBytes,
          memoryMiB: spec.memoryMiB,
          links: spec.ports
            .filter((p) => p.protocol === 'tcp' && p.service?.includes('http'))
            .flatMap((p) => {
              const where = appEndpoint(spec, p, host, status.guestAddress);
              return where
                ? [{ name: p.name, url: `http://${where.host}:${where.port}${p.path ?? '/'}` }]
                : [];
            }),
          message,
        },
      });
    }
    for (const [key, known] of this.#known)
      if (known.device.id === device.id && !seen.has(key)) this.#known.delete(key);
    await this.#followConsoles(device, session);
    this.#publishIfChanged();
  }

  async #followConsoles(device: DeviceRecord, session: SshSession): Promise<void> {
    for (const [key, follow] of this.#following) {
      const [deviceId, appId] = key.split('/') as [string, string];
      if (deviceId !== device.id) continue;
      if (follow.until < Date.now()) {
        this.#following.delete(key);
        continue;
      }
      const log = `${APPS_DIR}/${appId}/console.log`;
      const out = await session
        .exec(
          `sh -c ${shellQuote(`s=$(stat -c %s ${log} 2>/dev/null || echo 0); echo $s; if [ "$s" -gt ${follow.offset} ]; then tail -c +${follow.offset + 1} ${log} | head -c 65536; fi`)}`,
          { timeoutMs: 15_000 },
        )
        .catch(() => null);
      if (!out) continue;
      const [size, ...rest] = out.stdout.split('\n');
      const newSize = Number(size) || 0;
      const text = rest.join('\n');
      // A shorter log was rotated: start again from its beginning.
      follow.offset =
        newSize < follow.offset ? 0 : Math.min(newSize, follow.offset + Buffer.byteLength(text));
      const lines = clean(text);
      if (lines.length) this.#deps.publishConsole({ deviceId, appId, lines });
    }
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const devices = await this.#deps.devices.list().catch(() => []);
      await Promise.all(devices.map((d) => this.refreshDevice(d).catch(() => undefined)));
      const ids = new Set(devices.map((d) => d.id));
      for (const [key, known] of this.#known)
        if (!ids.has(known.device.id)) this.#known.delete(key);
      this.#publishIfChanged();
      await new Promise<void>(
        (resolve) => (this.#timer = setTimeout(resolve, this.#deps.refreshMs ?? 2_000)),
      );
    }
  }

  async #waitHealthy(
    device: DeviceRecord,
    spec: AppSpec,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    const session = await this.#deps.sessions.session(device.id);
    while (Date.now() < until) {
      if (signal.aborted) throw new HearthError('CANCELLED');
      const guest = await guestAddressOf(session, device.id, spec).catch(() => null);
      if (await probeOnce(session, device, spec, guest)) return true;
      // systemd gave up (it kept crashing): no point waiting out the timeout.
      const unit = await session.exec(
        `systemctl show -p ActiveState -p Result hearth-app@${spec.appId}.service`,
        { timeoutMs: 15_000 },
      );
      // Under KVM a failure means "try emulation" (the installer falls back); otherwise it
      // means the app itself keeps failing.
      if (/ActiveState=failed/.test(unit.stdout) && spec.accel === 'kvm') return false;
      if (/ActiveState=failed/.test(unit.stdout)) {
        const status = parseStatus(`@app ${spec.appId}\n${unit.stdout}`)[0];
        if (status)
          throw new HearthError(
            'INTERNAL',
            interpret(status, spec.name, null).message ?? `${spec.name} stopped.`,
          );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  }

  async #app(deviceId: string, appId: string): Promise<{ session: SshSession; known: Known }> {
    const known = this.#known.get(`${deviceId}/${appId}`);
    if (!known)
      throw new HearthError('NOT_FOUND', 'Hearth does not see that app on that device any more.');
    return { session: await this.#deps.sessions.session(deviceId), known };
  }

  async #exec(session: SshSession, script: string, what: string): Promise<void> {
    const result = await session.exec(`sh -c ${shellQuote(script)}`, { timeoutMs: 60_000 });
    if (result.code !== 0)
      throw new HearthError('INTERNAL', `The device could not ${what}. Try again.`);
  }

  #publishIfChanged(): void {
    const apps = this.list().sort(
      (a, b) => a.deviceName.localeCompare(b.deviceName) || a.name.localeCompare(b.name),
    );
    const text = JSON.stringify(apps);
    if (text === this.#lastPublished) return;
    this.#lastPublished = text;
    this.#deps.publish(apps);
  }
}

function stripControl(line: string): string {
  let out = '';
  for (const char of line) {
    const code = char.charCodeAt(0);
    if (code === 9 || (code >= 32 && code !== 127)) out += char;
  }
  return out;
}

/** Console text for display: printable, bounded lines. */
function clean(text: string): string[] {
  return text
    .split('\n')
    .map((line) => stripControl(line).slice(0, 500))
    .filter((line, i, all) => line !== '' || i < all.length - 1);
}
