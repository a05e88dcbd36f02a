// A window.hearth for component tests: the real buildHearthApi over an in-memory
// transport that records every invoke and lets a test emit events or make calls fail.
import { HearthError, serializeError } from '../../../shared/errors';
import type { HearthApi, HearthTransport } from '../../../shared/hearth-api';
import { buildHearthApi } from '../../../shared/hearth-api';
import { sampleDeviceRecord } from '../../../shared/sample-device';
import type {
  EventChannel,
  EventMap,
  InvokeChannel,
  InvokeRequest,
  InvokeResponse,
  InvokeResult,
} from '../../../shared/ipc';
import type {
  Alert,
  AlertsSnapshot,
  AppBackupStatus,
  AppUpdateStatus,
  BackupPoint,
  BackupSetup,
  CatalogApp,
  ChosenImage,
  DeviceIdentity,
  DeviceRecord,
  DiscoveredDevice,
  InstalledApp,
  RecoveryKit,
  Settings,
  TaskSnapshot,
} from '../../../shared/model';

type Handler<C extends InvokeChannel> = (
  request: InvokeRequest<C>,
) => InvokeResponse<C> | Promise<InvokeResponse<C>>;

type Handlers = { [C in InvokeChannel]?: Handler<C> };

export interface RecordedInvoke {
  channel: InvokeChannel;
  request: unknown;
}

export class FakeHearth implements HearthTransport {
  readonly invokes: RecordedInvoke[] = [];
  settings: Settings = {
    theme: 'system',
    welcomeDone: false,
    allowUnprotectedKey: false,
    startAtLogin: false,
    closeToTrayNoticeShown: false,
  };
  tasks: TaskSnapshot[] = [];
  devices: DeviceRecord[] = [];
  discovered: DiscoveredDevice[] = [];
  catalog: CatalogApp[] = [];
  apps: InstalledApp[] = [];
  /** What apps:console answers with, for any app. */
  consoleLines: string[] = [];
  /** The file the owner picks in apps:chooseImage; null is a cancelled dialog. */
  chosenImage: ChosenImage | null = null;
  /** Where backups go; not set up until backups:createRepository or openRepository. */
  backupSetup: BackupSetup = { repository: null, defaultPath: fakeBackupFolder };
  /** What backups:list answers; setSchedule and setDestination change it. */
  backupStatuses: AppBackupStatus[] = [];
  /** Every point in the backups (backups:points picks one app's, newest first). */
  backupPoints: BackupPoint[] = [];
  recoveryKit: RecoveryKit = fakeRecoveryKit();
  /** What updates:list and updates:check answer. */
  updateStatuses: AppUpdateStatus[] = [];
  /** What alerts:list answers. */
  alerts: AlertsSnapshot = {
    open: [],
    history: [],
    overall: 'all-well',
    summary: '0 devices, 0 apps running',
  };
  /** The folder the owner picks in backups:chooseFolder; null is a cancelled dialog. */
  chosenFolder: string | null = null;
  /** Where backups:saveKit says it saved; null is a cancelled save dialog. */
  kitSavedTo: string | null = '/home/owner/Documents/Hearth recovery kit.html';
  readonly api: HearthApi = buildHearthApi(this);
  readonly #handlers: Handlers = {};
  readonly #listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();

  constructor() {
    this.handle('settings:get', () => ({ ...this.settings }));
    this.handle('settings:update', (patch) => (this.settings = { ...this.settings, ...patch }));
    this.handle('tasks:list', () => [...this.tasks]);
    this.handle('tasks:cancel', () => ({ cancelled: true }));
    this.handle(
      'tasks:clearFinished',
      () => (this.tasks = this.tasks.filter((t) => t.state === 'running')),
    );
    this.handle('checks:run', () => ({ taskId: 'check-1' }));
    this.handle('devices:list', () => [...this.devices]);
    this.handle('discovery:list', () => [...this.discovered]);
    this.handle('catalog:list', () => [...this.catalog]);
    this.handle('apps:list', () => [...this.apps]);
    this.handle('apps:install', ({ appId }) => ({ taskId: `install-${appId}` }));
    this.handle('apps:start', () => null);
    this.handle('apps:stop', () => null);
    this.handle('apps:restart', () => null);
    this.handle('apps:setMemory', () => null);
    this.handle('apps:setSleep', () => null);
    this.handle('apps:remove', ({ deviceId, appId, confirmDeleteData }) => {
      const app = this.apps.find((a) => a.deviceId === deviceId && a.appId === appId);
      return { dataDeleted: app !== undefined && confirmDeleteData === app.name };
    });
    this.handle('apps:console', () => ({ lines: [...this.consoleLines] }));
    this.handle('apps:chooseImage', () => this.chosenImage);
    this.handle('apps:installFromFile', () => ({ taskId: 'install-file-1', appId: 'counter' }));
    this.#handleBackups();
    this.handle('alerts:list', () => structuredClone(this.alerts));
    this.handle('app:info', () => ({
      name: 'Hearth',
      version: '0.1.0',
      shell: 'browser',
      platform: 'linux',
    }));
  }

  #handleBackups(): void {
    const setup = () => structuredClone(this.backupSetup);
    const statusOf = ({ deviceId, appId }: { deviceId: string; appId: string }) => {
      const status = this.backupStatuses.find((s) => s.deviceId === deviceId && s.appId === appId);
      if (!status) throw new HearthError('APP_NOT_ON_DEVICE');
      return status;
    };
    const replace = (updated: AppBackupStatus) => {
      this.backupStatuses = this.backupStatuses.map((s) =>
        s.deviceId === updated.deviceId && s.appId === updated.appId ? updated : s,
      );
      return structuredClone(updated);
    };
    this.handle('backups:setup', setup);
    this.handle('backups:chooseFolder', () =>
      this.chosenFolder === null ? null : { path: this.chosenFolder },
    );
    this.handle('backups:createRepository', ({ path }) => {
      this.backupSetup = {
        ...this.backupSetup,
        repository: { path, kitConfirmed: false, createdAt: Date.now() },
      };
      return { setup: setup(), kit: structuredClone(this.recoveryKit) };
    });
    this.handle('backups:openRepository', ({ path }) => {
      // Whoever opens the backups with the kit's password has the kit.
      this.backupSetup = {
        ...this.backupSetup,
        repository: { path, kitConfirmed: true, createdAt: Date.now() },
      };
      return setup();
    });
    this.handle('backups:recoveryKit', () => {
      if (!this.backupSetup.repository) throw new HearthError('BACKUPS_NOT_SET_UP');
      return structuredClone(this.recoveryKit);
    });
    this.handle('backups:saveKit', () =>
      this.kitSavedTo === null ? null : { savedTo: this.kitSavedTo },
    );
    this.handle('backups:confirmKit', () => {
      const repository = this.backupSetup.repository;
      if (!repository) throw new HearthError('BACKUPS_NOT_SET_UP');
      this.backupSetup = { ...this.backupSetup, repository: { ...repository, kitConfirmed: true } };
      return setup();
    });
    this.handle('backups:list', () => structuredClone(this.backupStatuses));
    this.handle('updates:list', () => structuredClone(this.updateStatuses));
    this.handle('updates:check', () => structuredClone(this.updateStatuses));
    this.handle('backups:points', ({ deviceId, appId }) =>
      this.backupPoints
        .filter((p) => p.deviceId === deviceId && p.appId === appId)
        .sort((a, b) => b.takenAt - a.takenAt),
    );
    this.handle('backups:allPoints', () =>
      [...this.backupPoints].sort((a, b) => b.takenAt - a.takenAt),
    );
    this.handle('backups:run', ({ appId }) => ({ taskId: `backup-${appId}` }));
    this.handle('backups:drill', ({ appId }) => ({ taskId: `drill-${appId}` }));
    this.handle('backups:restore', ({ appId }) => ({ taskId: `restore-${appId}` }));
    this.handle('backups:setSchedule', (request) =>
      replace({ ...statusOf(request), schedule: request.schedule }),
    );
    this.handle('backups:setDestination', (request) => {
      const { destination } = request;
      if (destination.kind === 'computer') return replace({ ...statusOf(request), destination });
      const device = this.devices.find((d) => d.id === destination.deviceId);
      if (!device) throw new HearthError('NOT_FOUND');
      return replace({
        ...statusOf(request),
        destination: { kind: 'device', deviceId: device.id, deviceName: device.name },
      });
    });
  }

  /** Replaces how one channel answers. */
  handle<C extends InvokeChannel>(channel: C, handler: Handler<C>): void {
    (this.#handlers as Record<string, unknown>)[channel] = handler;
  }

  /** Makes one channel reject with a HearthError, as main would. */
  fail(channel: InvokeChannel, error: HearthError): void {
    (this.#handlers as Record<string, unknown>)[channel] = () => {
      throw error;
    };
  }

  invokesOf(channel: InvokeChannel): unknown[] {
    return this.invokes.filter((i) => i.channel === channel).map((i) => i.request);
  }

  emit<E extends EventChannel>(channel: E, payload: EventMap[E]): void {
    for (const listener of this.#listeners.get(channel) ?? []) listener(payload);
  }

  async invoke(channel: InvokeChannel, request: unknown): Promise<InvokeResult<unknown>> {
    this.invokes.push({ channel, request });
    const handler = this.#handlers[channel] as ((request: unknown) => unknown) | undefined;
    try {
      if (!handler) throw new HearthError('UNKNOWN_CHANNEL');
      return { ok: true, value: await handler(request) };
    } catch (error) {
      // As main does: only the code and the owner's sentence cross the wire.
      return { ok: false, error: serializeError(error) };
    }
  }

  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void {
    const set = this.#listeners.get(channel) ?? new Set();
    set.add(listener);
    this.#listeners.set(channel, set);
    return () => set.delete(listener);
  }

  /** Puts this fake on window.hearth for the current test. */
  install(): this {
    Object.defineProperty(window, 'hearth', {
      value: this.api,
      configurable: true,
      writable: true,
    });
    return this;
  }
}

export function installFakeHearth(): FakeHearth {
  return new FakeHearth().install();
}

export function fakeTask(overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    id: 'task-1',
    kind: 'checks',
    title: 'Check this computer',
    state: 'running',
    progress: { done: 1, total: 4, unit: 'steps' },
    detail: 'Looking at your network',
    steps: [
      { label: 'Disk space', state: 'done' },
      { label: 'Network', state: 'running' },
    ],
    cancellable: true,
    startedAt: 1_700_000_000_000,
    endedAt: null,
    summary: null,
    error: null,
    ...overrides,
  };
}

/** An open alert as alerts:list reports it: Counter on raspberrypi gave up. */
export function fakeAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    key: `app:${sampleDeviceRecord().id}/counter`,
    kind: 'app-gave-up',
    severity: 'problem',
    message:
      'Counter on raspberrypi kept stopping right after it started, so the device stopped trying.',
    action: {
      label: "Open Counter's console",
      target: {
        view: 'apps',
        deviceId: sampleDeviceRecord().id,
        appId: 'counter',
        show: 'console',
      },
    },
    raisedAt: 1_700_000_000_000,
    resolvedAt: null,
    deviceId: sampleDeviceRecord().id,
    appId: 'counter',
    ...overrides,
  };
}

export const fakeFingerprint = 'SHA256:' + 'a'.repeat(40) + 'Pi0';

export function fakeDiscovered(overrides: Partial<DiscoveredDevice> = {}): DiscoveredDevice {
  return {
    key: 'raspberrypi',
    name: 'raspberrypi',
    hostnames: ['raspberrypi.local'],
    addresses: ['192.168.1.20'],
    interfaces: ['eth0'],
    services: ['ssh', 'workstation'],
    sshPort: 22,
    kind: 'candidate',
    description: 'Raspberry Pi running Debian',
    source: 'mdns',
    lastSeen: 1_700_000_000_000,
    ...overrides,
  };
}

export function fakeIdentity(overrides: Partial<DeviceIdentity> = {}): DeviceIdentity {
  return {
    address: '192.168.1.20',
    port: 22,
    fingerprint: fakeFingerprint,
    art: ['+--[ED25519 256]--+', '|     .o+=*B      |', '+----[SHA256]-----+'],
    previousFingerprint: null,
    impersonates: null,
    ...overrides,
  };
}

export function fakeDevice(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return sampleDeviceRecord({
    id: '6f1c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
    hostKeyFingerprint: fakeFingerprint,
    ...overrides,
  });
}

export function fakeCatalogApp(overrides: Partial<CatalogApp> = {}): CatalogApp {
  return {
    id: 'counter',
    name: 'Counter',
    summary: 'Counts how often it has started.',
    description: 'A tiny app that counts its own starts and keeps the count on the device.',
    icon: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="9"/></svg>',
    version: '1.0.0',
    targets: ['qemu-x86_64', 'qemu-aarch64'],
    catalogName: 'Hearth apps',
    ...overrides,
  };
}

export function fakeInstalledApp(overrides: Partial<InstalledApp> = {}): InstalledApp {
  return {
    deviceId: '6f1c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
    deviceName: 'Living-room Pi',
    appId: 'counter',
    name: 'Counter',
    version: '1.0.0',
    state: 'running',
    restarts: 0,
    runningSince: Date.now() - 5 * 60_000,
    memoryBytes: 12 * 1024 ** 2,
    memoryMiB: 32,
    links: [],
    message: null,
    ...overrides,
  };
}

/** A chosen image file as apps:chooseImage answers: by default the lab's counter kernel. */
export function fakeChosenImage(overrides: Partial<ChosenImage> = {}): ChosenImage {
  return {
    token: 'tok_0123456789abcdefABCD',
    fileName: 'counter-v1.elf',
    size: 9_000,
    sha256: 'ab'.repeat(32),
    facts: { kind: 'kernel', format: 'multiboot', arch: 'x86' },
    targets: ['qemu-x86_64'],
    problem: null,
    suggested: {
      memoryMiB: 32,
      disk: 'ide',
      volumes: [],
      ports: [],
      bootArgs: '',
      health: { kind: 'console', pattern: '' },
    },
    ...overrides,
  };
}

export const fakeBackupFolder = '/home/owner/Documents/Hearth Backups';

/** One app's backups as backups:list reports them: Counter on the Living-room Pi, all well. */
export function fakeBackupStatus(overrides: Partial<AppBackupStatus> = {}): AppBackupStatus {
  const now = Date.now();
  return {
    deviceId: '6f1c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
    deviceName: 'Living-room Pi',
    appId: 'counter',
    appName: 'Counter',
    destination: { kind: 'computer' },
    schedule: { enabled: true, everyHours: 24 },
    lastBackupAt: now - 2 * 60 * 60_000,
    lastVerifiedAt: now - 3 * 24 * 60 * 60_000,
    sizeBytes: 12.5 * 1024 ** 2,
    nextRunAt: now + 22 * 60 * 60_000,
    overdue: false,
    lastError: null,
    runningTaskId: null,
    lastDrill: null,
    ...overrides,
  };
}

export function fakeBackupPoint(overrides: Partial<BackupPoint> = {}): BackupPoint {
  return {
    id: 'run-00000001',
    deviceId: '6f1c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
    appId: 'counter',
    appName: 'Counter',
    appVersion: '1.0.0',
    takenAt: Date.now() - 2 * 60 * 60_000,
    sizeBytes: 12.5 * 1024 ** 2,
    volumes: ['data'],
    ...overrides,
  };
}

export function fakeRecoveryKit(overrides: Partial<RecoveryKit> = {}): RecoveryKit {
  return {
    password: 'tulip-orbit-7341-meadow-quartz-9025',
    qrSvg:
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><path d="M0 0h7v7H0z"/></svg>',
    locations: [{ label: 'On this computer, in Hearth Backups', repository: fakeBackupFolder }],
    html: '<!doctype html><title>Hearth recovery kit</title>',
    createdAt: Date.now(),
    ...overrides,
  };
}

/** One app's updates as updates:list reports them: Counter 1.0.0, with 2.0.0 on offer. */
export function fakeUpdateStatus(overrides: Partial<AppUpdateStatus> = {}): AppUpdateStatus {
  return {
    deviceId: '6f1c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
    appId: 'counter',
    appName: 'Counter',
    installedVersion: '1.0.0',
    available: { version: '2.0.0', releaseNotes: 'Counts twice as fast.\nKeeps its count.' },
    policy: 'ask',
    previousVersion: null,
    runningTaskId: null,
    lastOutcome: null,
    ...overrides,
  };
}
