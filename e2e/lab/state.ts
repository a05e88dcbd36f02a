import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { HostKeyType } from './host-keys';
import type { PersonaName } from './personas';
import { runDir, stateFile } from './paths';

export interface DeviceRecord {
  name: string;
  index: number;
  persona: PersonaName;
  hostname: string;
  user: string;
  password: string;
  address: string;
  netns: string;
  /** The device's veth end on the LAN bridge (in the LAN namespace). */
  link: string;
  dir: string;
  /** The fingerprint an SSH client sees first (ssh2 and OpenSSH both prefer ed25519). */
  hostKeyFingerprint: string;
  hostKeyFingerprints: Record<HostKeyType, string>;
  /** Its lower layer when it is not the lab's `root` (a persona of another Debian release). */
  root?: string;
  /** The systemd-nspawn process while powered on. */
  pid?: number;
  power: 'on' | 'off';
  cut: boolean;
  shape?: { rate: string; delay?: string };
}

export interface LabState {
  version: 1;
  createdAt: string;
  root: string;
  laptop: { netns: string; lanAddress: string; secondAddress: string; chromium: string };
  devices: DeviceRecord[];
  /** Result of the QEMU acceleration probe, once made. */
  accel?: 'kvm' | 'tcg';
}

export async function readState(): Promise<LabState | undefined> {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(await readFile(stateFile, 'utf8')) as LabState;
}

/** Written atomically: separate CLI invocations read it while others may be writing. */
export async function writeState(state: LabState): Promise<void> {
  await mkdir(runDir, { recursive: true });
  const tmp = `${stateFile}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, stateFile);
}
