// What the apps tests share: a prepared device's record, an app's spec as an install leaves it,
// a catalog app as the catalog resolves it, a launcher that writes one script, and a clock whose
// sleep makes time pass at once. Test support only: nothing in the app imports it.
import type { DeviceRecord } from '../../../shared/model';
import { sampleDeviceRecord } from '../../../shared/sample-device';
import type { Clock, Sleep } from '../clock';
import type { LauncherPort, ResolvedApp } from './app-ports';
import type { AppSpec } from './app-spec';

export function deviceRecord(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return sampleDeviceRecord({
    name: 'Living room Pi',
    hostKeyFingerprint: 'SHA256:fakefakefakefakefakefakefakefakefakefakefak',
    hostname: 'living-room-pi',
    ...overrides,
  });
}

export function appSpec(overrides: Partial<AppSpec> = {}): AppSpec {
  return {
    appId: 'counter',
    name: 'Counter',
    version: '1.0.0',
    target: 'qemu-aarch64',
    sha256: 'a'.repeat(64),
    disk: 'virtio',
    memoryMiB: 32,
    volumes: [{ name: 'storage', sizeMiB: 64 }],
    ports: [
      { name: 'http', guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp', path: '/' },
      { name: 'dns', guest: 53, host: 5353, protocol: 'udp' },
    ],
    bootArgs: '',
    health: { kind: 'console', pattern: 'counter ready' },
    accel: 'kvm',
    installedAt: '2026-11-30T12:00:00.000Z',
    ...overrides,
  };
}

export function resolvedApp(overrides: Partial<ResolvedApp> = {}): ResolvedApp {
  return {
    origin: 'catalog',
    appId: 'counter',
    name: 'Counter',
    version: '1.0.0',
    target: 'qemu-aarch64',
    artifact: { url: 'https://catalog.example/counter.img', size: 0, sha256: '', disk: 'virtio' },
    resources: {
      memoryMiB: 32,
      volumes: [{ name: 'storage', sizeMiB: 64 }],
      ports: [
        { name: 'http', guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp', path: '/' },
      ],
      bootArgs: '',
      health: { kind: 'console', pattern: 'counter ready' },
    },
    ...overrides,
  };
}

/** A launcher that writes one `run` script naming the runtime, memory and acceleration. */
export const testLauncher: LauncherPort = {
  files: (runtime, input) => [
    {
      path: `${input.appDir}/run`,
      content: `#!/bin/sh\n# ${runtime} ${input.arch} ${input.accel} ${input.memoryMiB}M\nexec true\n`,
      mode: '0755',
    },
  ],
};

/** A clock tests move by hand, and a sleep that moves it instead of waiting. */
export function testClock(start = 1_795_000_000_000): {
  clock: Clock;
  sleep: Sleep;
  advance: (ms: number) => void;
  now: () => number;
} {
  let now = start;
  return {
    clock: { now: () => now },
    sleep: async (ms) => {
      await Promise.resolve();
      now += ms;
    },
    advance: (ms) => (now += ms),
    now: () => now,
  };
}
