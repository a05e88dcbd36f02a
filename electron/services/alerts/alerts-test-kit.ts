// Test support: the lists the alert service observes, and a service on a real store in a
// temporary folder with a clock the test moves.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AlertsSnapshot,
  AppBackupStatus,
  AppUpdateStatus,
  DeviceRecord,
  InstalledApp,
} from '../../../shared/model';
import { sampleDeviceRecord } from '../../../shared/sample-device';
import { AtomicJsonStore } from '../store/atomic-json-store';
import type { AlertServiceDeps } from './alert-service';
import { AlertService } from './alert-service';
import { AlertStore } from './alert-store';

export const PI_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

export function device(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return sampleDeviceRecord({ id: PI_ID, name: 'Living room Pi', ...overrides });
}

export function app(overrides: Partial<InstalledApp> = {}): InstalledApp {
  return {
    deviceId: PI_ID,
    deviceName: 'Living room Pi',
    appId: 'calendar',
    name: 'Calendar',
    version: '1.0.0',
    state: 'running',
    restarts: 0,
    runningSince: 1,
    memoryBytes: null,
    memoryMiB: 64,
    links: [],
    message: null,
    ...overrides,
  };
}

export function backup(overrides: Partial<AppBackupStatus> = {}): AppBackupStatus {
  return {
    deviceId: PI_ID,
    deviceName: 'Living room Pi',
    appId: 'calendar',
    appName: 'Calendar',
    destination: { kind: 'computer' },
    schedule: { enabled: true, everyHours: 24 },
    lastBackupAt: null,
    lastVerifiedAt: null,
    sizeBytes: null,
    nextRunAt: null,
    overdue: false,
    lastError: null,
    runningTaskId: null,
    lastDrill: null,
    ...overrides,
  };
}

export function update(overrides: Partial<AppUpdateStatus> = {}): AppUpdateStatus {
  return {
    deviceId: PI_ID,
    appId: 'calendar',
    appName: 'Calendar',
    installedVersion: '1.0.0',
    available: null,
    policy: 'ask',
    previousVersion: null,
    runningTaskId: null,
    lastOutcome: null,
    ...overrides,
  };
}

export interface AlertHarness {
  service: AlertService;
  published: AlertsSnapshot[];
  now: () => number;
  advance: (ms: number) => void;
  /** A new service on the same folder and clock: Hearth restarted. */
  restart: () => AlertHarness;
  dispose: () => Promise<void>;
}

export async function alertHarness(
  options: Partial<Pick<AlertServiceDeps, 'policy' | 'book'>> = {},
): Promise<AlertHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'alerts-'));
  let now = 1_795_000_000_000;
  const make = (): AlertHarness => {
    const published: AlertsSnapshot[] = [];
    const service = new AlertService({
      store: new AlertStore(new AtomicJsonStore(dir)),
      clock: { now: () => now },
      sleep: () => Promise.resolve(),
      log: { warn: () => undefined },
      publish: (s) => published.push(s),
      ...options,
    });
    return {
      service,
      published,
      now: () => now,
      advance: (ms) => (now += ms),
      restart: make,
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  };
  return make();
}
