import { test as base } from '@playwright/test';
import * as lab from './lab';
import type { DeviceRecord, LabState, PersonaName } from './lab';
import type { SshProbe, MdnsService } from './laptop-probe';
import { whyNot } from './preflight';

/**
 * The lab as a spec sees it. Everything "from the laptop" runs inside the laptop namespace,
 * where Hearth's services run; `exec` is root on a device.
 */
export interface Lab {
  state: () => Promise<LabState>;
  device: (name: string) => Promise<DeviceRecord>;
  exec: typeof lab.exec;
  laptop: typeof lab.laptop;
  laptopArgv: typeof lab.laptopArgv;
  /** SSH from the laptop as the device's user, verifying the host key the lab reported. */
  ssh: (
    name: string,
    command?: string,
    override?: { password?: string; fingerprint?: string; timeoutMs?: number },
  ) => Promise<SshProbe>;
  /** Browses mDNS from the laptop side for `type` (e.g. 'ssh'). */
  mdns: (type: string, opts?: { timeoutMs?: number; interface?: string }) => Promise<MdnsService[]>;
  tcp: (
    host: string,
    port: number,
    timeoutMs?: number,
  ) => Promise<{ ok: boolean; ms: number; error?: string }>;
  http: (
    url: string,
    timeoutMs?: number,
  ) => Promise<{ ok: boolean; status?: number; body?: string; error?: string }>;
  cut: typeof lab.cut;
  heal: typeof lab.heal;
  poweroff: typeof lab.poweroff;
  boot: typeof lab.boot;
  shape: typeof lab.shape;
  unshape: typeof lab.unshape;
  up: typeof lab.up;
  down: typeof lab.down;
}

export const labHandle: Lab = {
  state: lab.requireState,
  device: lab.device,
  exec: lab.exec,
  laptop: lab.laptop,
  laptopArgv: lab.laptopArgv,
  async ssh(name, command, override) {
    const d = await lab.device(name);
    return lab.probe<SshProbe>([
      'ssh',
      '--host',
      d.address,
      '--user',
      d.user,
      '--password',
      override?.password ?? d.password,
      '--fingerprint',
      override?.fingerprint ?? d.hostKeyFingerprint,
      ...(command === undefined ? [] : ['--command', command]),
      ...(override?.timeoutMs === undefined ? [] : ['--timeout', String(override.timeoutMs)]),
    ]);
  },
  async mdns(type, opts = {}) {
    const r = await lab.probe<{ services: MdnsService[] }>([
      'mdns',
      '--type',
      type,
      '--timeout',
      String(opts.timeoutMs ?? 2000),
      ...(opts.interface ? ['--interface', opts.interface] : []),
    ]);
    return r.services;
  },
  tcp: (host, port, timeoutMs = 2000) =>
    lab.probe(['tcp', '--host', host, '--port', String(port), '--timeout', String(timeoutMs)]),
  http: (url, timeoutMs = 5000) =>
    lab.probe(['http', '--url', url, '--timeout', String(timeoutMs)]),
  cut: lab.cut,
  heal: lab.heal,
  poweroff: lab.poweroff,
  boot: lab.boot,
  shape: lab.shape,
  unshape: lab.unshape,
  up: lab.up,
  down: lab.down,
};

/** Why lab specs cannot run on this machine (skip with it), or undefined. */
export const labUnavailable = (): string | undefined => whyNot({ kernels: true });

// HEARTH_LAB_LOG=1 shows the lab's progress (timed) on the runner's stderr.
const log = (line: string): void => {
  if (process.env.HEARTH_LAB_LOG)
    process.stderr.write(`[lab ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
};

/**
 * `lab`: a virtual home brought up once per worker (devices: labPersonas, a mixed home by
 * default) and taken down when the worker ends.
 */
export const test = base.extend<object, { lab: Lab; labPersonas: PersonaName[] }>({
  labPersonas: [['pi', 'debian', 'hearth'], { scope: 'worker', option: true }],
  lab: [
    async ({ labPersonas }, use) => {
      try {
        await lab.up({ devices: labPersonas.length, personas: labPersonas, log });
      } catch (e) {
        // A half-made lab must not outlive the worker that made it.
        await lab.down({ log });
        throw e;
      }
      await use(labHandle);
      await lab.down({ log });
    },
    { scope: 'worker', timeout: 10 * 60_000 },
  ],
});

export { expect } from '@playwright/test';
