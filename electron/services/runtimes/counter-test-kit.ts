// The counter unikernel as Hearth's QEMU launcher starts it, for tests that boot it for real on
// this machine (TCG): one IDE volume, no ports.
import { writeFile } from 'node:fs/promises';
import type { LaunchSpec } from './launch-spec';
import { launcherFor } from './launcher';

export function counterLaunchSpec(appDir: string, kernelPath: string, volume: string): LaunchSpec {
  return {
    appId: 'counter',
    appDir,
    arch: 'x86_64',
    kernelPath,
    memoryMiB: 32,
    volumes: [{ name: 'disk', path: volume }],
    disk: 'ide',
    ports: [],
    bootArgs: '',
    accel: 'tcg',
  };
}

/** Writes the launcher's files (run, qmp, stop) into the spec's app folder. */
export async function writeLauncher(spec: LaunchSpec): Promise<void> {
  for (const f of launcherFor('qemu', spec, { stopTimeoutS: 1 }).files)
    await writeFile(f.path, f.content, { mode: parseInt(f.mode, 8) });
}
