import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { run, sleep, tryRun } from './command';
import type { RunOptions, RunResult } from './command';
import { deviceAddress, deviceLink, laptopLanAddress, laptopSecondAddress } from './addresses';
import {
  bootDevice,
  createLayer,
  deviceDirs,
  execArgv,
  execOnDevice,
  labNspawnPids,
  mountLayer,
  powerOffProcess,
  processAlive,
  waitBooted,
} from './device';
import { ensureDeviceRoot } from './device-root';
import { labCgroupDirs, removeLabCgroups } from './cgroups';
import {
  addNetns,
  createLan,
  deleteNetns,
  ip,
  labNetnsNames,
  lanBridge,
  pidsInNetns,
  plug,
  secondBridge,
  setLink,
  shapeLink,
  unshapeLink,
} from './netns';
import { nameDevices, passwordFor, personas, personasFor } from './personas';
import type { PersonaName } from './personas';
import {
  binDir,
  deviceNetns,
  devicesDir,
  lanNetns,
  laptopChromium,
  laptopNetns,
  runDir,
} from './paths';
import { assertCanRun } from './preflight';
import { readState, writeState } from './state';
import type { DeviceRecord, LabState } from './state';

export type { DeviceRecord, LabState } from './state';
export type { PersonaName } from './personas';

type Log = (line: string) => void;
const quiet: Log = () => undefined;

export interface UpOptions {
  devices?: number;
  personas?: PersonaName[];
  /** Keep a healthy running lab of the same shape instead of making a fresh one. */
  reuse?: boolean;
  log?: Log;
}

const bootTimeoutMs = 90_000;

/**
 * A fresh virtual home: the LAN, the laptop side and N devices, booted and answering SSH.
 * Running it on a running lab replaces that lab (devices come back factory-fresh, with new host
 * keys), unless `reuse` is set and the running lab already has the asked shape.
 */
export async function up(options: UpOptions = {}): Promise<LabState> {
  assertCanRun();
  const log = options.log ?? quiet;
  const kinds = personasFor(options.devices ?? 3, options.personas ?? []);
  if (options.reuse) {
    const current = await readState();
    if (current && sameShape(current, kinds) && (await healthy(current))) {
      log('reusing the running lab');
      return current;
    }
  }
  await down({ log: quiet });
  const started = Date.now();
  const root = await ensureDeviceRoot(log);
  // Personas of another Debian release (bullseye) boot a root of their own, built only when asked.
  const roots = new Map<string, string>();
  for (const kind of new Set(kinds)) {
    const suite = personas[kind].suite;
    if (suite && !roots.has(suite)) roots.set(suite, await ensureDeviceRoot(log, suite));
  }
  await mkdir(devicesDir, { recursive: true });

  log('wiring the LAN and the laptop side');
  await createLan();
  await addNetns(laptopNetns);
  await plug({
    netns: laptopNetns,
    inside: 'eth0',
    outside: 'laptop',
    bridge: lanBridge,
    address: laptopLanAddress,
  });
  await plug({
    netns: laptopNetns,
    inside: 'vpn0',
    outside: 'laptop-vpn',
    bridge: secondBridge,
    address: laptopSecondAddress,
  });
  // mDNS finds nothing in a namespace without a route (LAB.md): the LAN is the default route.
  await ip(laptopNetns, 'route', 'add', 'default', 'dev', 'eth0');
  await writeLaptopResolvConf();
  await writeChromiumWrapper();

  const state: LabState = {
    version: 1,
    createdAt: new Date().toISOString(),
    root,
    laptop: {
      netns: laptopNetns,
      lanAddress: laptopLanAddress,
      secondAddress: laptopSecondAddress,
      chromium: laptopChromium,
    },
    devices: [],
  };
  // Saved before anything boots, so an interrupted `up` is still fully known to `down`.
  await writeState(state);

  state.devices = await Promise.all(
    nameDevices(kinds).map(async ({ name, persona, hostname }, index): Promise<DeviceRecord> => {
      const p = personas[persona];
      const netns = deviceNetns(name);
      const dir = `${devicesDir}/${name}`;
      const password = passwordFor(p);
      await addNetns(netns);
      const address = deviceAddress(index);
      const link = deviceLink(index);
      await plug({ netns, inside: 'eth0', outside: link, bridge: lanBridge, address });
      await ip(netns, 'route', 'add', 'default', 'dev', 'eth0');
      const lower = (p.suite && roots.get(p.suite)) || root;
      const fingerprints = await createLayer({ lower, dir, hostname, persona: p, password });
      return {
        name,
        index,
        persona,
        hostname,
        user: p.user,
        password,
        address,
        netns,
        link,
        dir,
        hostKeyFingerprint: fingerprints.ed25519,
        hostKeyFingerprints: fingerprints,
        ...(lower === root ? {} : { root: lower }),
        power: 'off',
        cut: false,
      };
    }),
  );
  await writeState(state);
  for (const d of state.devices) {
    d.pid = bootDevice({ name: d.name, dir: d.dir, hostname: d.hostname, netns: d.netns });
    d.power = 'on';
  }
  await writeState(state);
  log(`booting ${state.devices.length} devices`);
  await Promise.all(state.devices.map((d) => waitReady(d)));
  log(`lab up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return state;
}

function sameShape(state: LabState, kinds: readonly PersonaName[]): boolean {
  return (
    state.devices.length === kinds.length && state.devices.every((d, i) => d.persona === kinds[i])
  );
}

async function healthy(state: LabState): Promise<boolean> {
  if (!existsSync(`/run/netns/${laptopNetns}`)) return false;
  return state.devices.every((d) => d.power === 'off' || processAlive(d.pid));
}

const unitsFor = (d: DeviceRecord): string[] =>
  personas[d.persona].avahiOff ? ['ssh.service'] : ['ssh.service', 'avahi-daemon.service'];

async function waitReady(d: DeviceRecord): Promise<void> {
  if (!d.pid) throw new Error(`${d.name} is not powered on`);
  await waitBooted(d.pid, unitsFor(d), bootTimeoutMs).catch(async (e: unknown) => {
    const consoleTail = await readFile(deviceDirs(d.dir).console, 'utf8').catch(() => '');
    throw new Error(
      `${d.name}: ${(e as Error).message}\n--- console.log (tail) ---\n${consoleTail.split('\n').slice(-15).join('\n')}`,
    );
  });
  if (!d.cut) await waitTcp(d.address, 22, 30_000);
}

/** A TCP connect from the laptop side (bash's /dev/tcp keeps this cheap: no Node start-up). */
export async function tcpReachable(host: string, port: number, timeoutS = 2): Promise<boolean> {
  const r = await tryRun(
    laptopArgv(['timeout', String(timeoutS), 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]),
  );
  return r.code === 0;
}

async function waitTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await tcpReachable(host, port, 1))) {
    if (Date.now() > deadline)
      throw new Error(`${host}:${port} never answered from the laptop side`);
    await sleep(200);
  }
}

async function writeChromiumWrapper(): Promise<void> {
  await mkdir(binDir, { recursive: true });
  await writeFile(
    laptopChromium,
    `#!/bin/sh\n# Debian's Chromium on the laptop side of the Hearth lab (generated by e2e/lab).\nexec ip netns exec ${laptopNetns} /usr/bin/chromium "$@"\n`,
  );
  await chmod(laptopChromium, 0o755);
}

export interface DownReport {
  processes: number;
  mounts: number;
  namespaces: number;
}

/**
 * Removes every process, mount, namespace (and with them every veth and bridge) and file the lab
 * made. It finds them by name and path rather than trusting the state file, so it also cleans up
 * after an interrupted `up` or a lost state file.
 */
export async function down(options: { log?: Log } = {}): Promise<DownReport> {
  const log = options.log ?? quiet;
  const report: DownReport = { processes: 0, mounts: 0, namespaces: 0 };
  const state = await readState().catch(() => undefined);
  const nspawns = new Set(await labNspawnPids(runDir));
  for (const d of state?.devices ?? []) if (d.pid && processAlive(d.pid)) nspawns.add(d.pid);
  report.processes += nspawns.size;
  await Promise.all([...nspawns].map((pid) => powerOffProcess(pid, 20_000)));

  const namespaces = await labNetnsNames();
  for (const ns of namespaces) {
    const pids = await pidsInNetns(ns);
    report.processes += pids.length;
    for (const pid of pids) killQuietly(pid, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (pids.some((p) => processAlive(p)) && Date.now() < deadline) await sleep(100);
    for (const pid of pids) if (processAlive(pid)) killQuietly(pid, 'SIGKILL');
  }

  for (const mount of await labMounts()) {
    const r = await tryRun(['umount', mount]);
    if (r.code !== 0) await run(['umount', '-l', mount]);
    report.mounts++;
  }
  for (const ns of namespaces) {
    await deleteNetns(ns);
    report.namespaces++;
  }
  await removeLabCgroups();
  await rm(laptopNetnsEtc, { recursive: true, force: true });
  await rm(runDir, { recursive: true, force: true });
  log(
    `lab down: ${report.processes} processes, ${report.mounts} mounts, ${report.namespaces} namespaces removed`,
  );
  return report;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Mount points under the run directory, deepest first. */
export async function labMounts(): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && (m === runDir || m.startsWith(`${runDir}/`)))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/** What remains of the lab on this machine; all empty after `down`. */
export async function leftovers(): Promise<{
  namespaces: string[];
  mounts: string[];
  processes: number[];
  cgroups: string[];
  files: boolean;
}> {
  return {
    namespaces: await labNetnsNames(),
    mounts: await labMounts(),
    processes: await labNspawnPids(runDir),
    cgroups: labCgroupDirs(),
    files: existsSync(runDir),
  };
}

export type DeviceState = 'running' | 'off' | 'cut' | 'crashed';

export interface DeviceStatus {
  name: string;
  persona: PersonaName;
  hostname: string;
  address: string;
  user: string;
  password: string;
  hostKeyFingerprint: string;
  hostKeyFingerprints: DeviceRecord['hostKeyFingerprints'];
  state: DeviceState;
  shape?: DeviceRecord['shape'];
}

export interface LabStatus {
  up: boolean;
  laptop?: LabState['laptop'];
  devices: DeviceStatus[];
}

export function deviceState(d: DeviceRecord): DeviceState {
  if (d.power === 'off') return 'off';
  if (!processAlive(d.pid)) return 'crashed';
  return d.cut ? 'cut' : 'running';
}

export async function status(): Promise<LabStatus> {
  const state = await readState();
  if (!state) return { up: false, devices: [] };
  return {
    up: true,
    laptop: state.laptop,
    devices: state.devices.map((d) => ({
      name: d.name,
      persona: d.persona,
      hostname: d.hostname,
      address: d.address,
      user: d.user,
      password: d.password,
      hostKeyFingerprint: d.hostKeyFingerprint,
      hostKeyFingerprints: d.hostKeyFingerprints,
      state: deviceState(d),
      ...(d.shape ? { shape: d.shape } : {}),
    })),
  };
}

export async function requireState(): Promise<LabState> {
  const state = await readState();
  if (!state) throw new Error('the lab is not up (npm run lab -- up)');
  return state;
}

export async function device(name: string): Promise<DeviceRecord> {
  const state = await requireState();
  const d = state.devices.find((x) => x.name === name);
  if (!d)
    throw new Error(`no device ${name} (devices: ${state.devices.map((x) => x.name).join(', ')})`);
  return d;
}

async function updateDevice(
  name: string,
  change: (d: DeviceRecord) => void,
): Promise<DeviceRecord> {
  const state = await requireState();
  const d = state.devices.find((x) => x.name === name);
  if (!d) throw new Error(`no device ${name}`);
  change(d);
  await writeState(state);
  return d;
}

function running(d: DeviceRecord): number {
  if (d.power !== 'on' || !d.pid || !processAlive(d.pid))
    throw new Error(`${d.name} is not running`);
  return d.pid;
}

/** Runs a command as root on a device. */
export async function exec(
  name: string,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return execOnDevice(running(await device(name)), argv, options);
}

/** The argv that runs a command as root on a device, for callers that spawn it themselves. */
export async function execCommand(name: string, argv: readonly string[]): Promise<string[]> {
  return execArgv(running(await device(name)), argv);
}

/** Writes a file on a device (through the device's own view of its disk). */
export async function putFile(
  name: string,
  path: string,
  data: string | Buffer,
  mode = '0644',
): Promise<void> {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = await exec(
    name,
    [
      'sh',
      '-c',
      `mkdir -p "$(dirname ${q(path)})" && cat > ${q(path)} && chmod ${mode} ${q(path)}`,
    ],
    {
      input: data,
    },
  );
  if (r.code !== 0) throw new Error(`writing ${path} on ${name}: ${r.stderr.trim()}`);
}

/** `ip netns exec` binds the files here over /etc on the laptop side. */
const laptopNetnsEtc = `/etc/netns/${laptopNetns}`;

/**
 * The laptop side has no DNS server: the machine's own would be tried over the LAN's default
 * route and time out, which also stalls nss-mdns (it asks unicast DNS about "local." first)
 * before any .local name resolves. A local server that refuses at once is a home without one.
 */
async function writeLaptopResolvConf(): Promise<void> {
  await mkdir(laptopNetnsEtc, { recursive: true });
  await writeFile(
    `${laptopNetnsEtc}/resolv.conf`,
    '# Written by the Hearth lab: no DNS server on the lab LAN.\nnameserver 127.0.0.1\n',
  );
}

/** The argv that runs a command on the laptop side of the LAN. */
export function laptopArgv(argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', laptopNetns, ...argv];
}

export function laptop(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return tryRun(laptopArgv(argv), options);
}

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const probeScript = fileURLToPath(new URL('./laptop-probe.ts', import.meta.url));

/**
 * Runs e2e/lab/laptop-probe.ts on the laptop side (ssh, mdns, tcp, http) and returns its JSON
 * answer: the way a spec asks "what does the laptop see".
 */
export async function probe<T>(args: readonly string[], timeoutMs = 60_000): Promise<T> {
  const r = await laptop([process.execPath, tsxCli, probeScript, ...args], { timeoutMs });
  const line = r.stdout.trim().split('\n').at(-1);
  if (!line)
    throw new Error(`laptop probe ${args[0]} printed nothing (exit ${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(line) as T;
}

/** Unplugs the device's cable: its bridge port goes down, the device sees no carrier. */
export async function cut(name: string): Promise<void> {
  const d = await updateDevice(name, (x) => (x.cut = true));
  await setLink(d.link, false);
}

export async function heal(name: string): Promise<void> {
  const d = await updateDevice(name, (x) => (x.cut = false));
  if (d.power === 'on') await setLink(d.link, true);
}

/**
 * A clean shutdown. The port goes down too: a powered-off device does not answer ARP, whereas
 * an empty namespace would still answer with resets.
 */
export async function poweroff(name: string): Promise<void> {
  const d = await device(name);
  if (d.pid) await powerOffProcess(d.pid);
  await setLink(d.link, false);
  await updateDevice(name, (x) => {
    x.power = 'off';
    delete x.pid;
  });
}

/** Powers on with the same disk (overlay upper layer) it had when it went off. */
export async function boot(name: string): Promise<void> {
  const state = await requireState();
  const d = await device(name);
  if (d.power === 'on' && processAlive(d.pid)) return;
  await mountLayer(d.root ?? state.root, d.dir);
  const pid = bootDevice({ name: d.name, dir: d.dir, hostname: d.hostname, netns: d.netns });
  const updated = await updateDevice(name, (x) => {
    x.power = 'on';
    x.pid = pid;
  });
  if (!updated.cut) await setLink(d.link, true);
  await waitReady(updated);
}

const linkPairs = (d: DeviceRecord): { netns: string; dev: string }[] => [
  { netns: d.netns, dev: 'eth0' },
  { netns: lanNetns, dev: d.link },
];

export async function shape(
  name: string,
  rate: string,
  delay?: string,
): Promise<{ delayApplied: boolean }> {
  const d = await device(name);
  const result = await shapeLink(linkPairs(d), rate, delay);
  await updateDevice(
    name,
    (x) => (x.shape = delay && result.delayApplied ? { rate, delay } : { rate }),
  );
  return result;
}

export async function unshape(name: string): Promise<void> {
  const d = await device(name);
  await unshapeLink(linkPairs(d));
  await updateDevice(name, (x) => delete x.shape);
}

/** The qdisc line tc reports for a device's own interface (to check shaping). */
export async function qdisc(name: string): Promise<string> {
  const d = await device(name);
  return run(['tc', '-n', d.netns, 'qdisc', 'show', 'dev', 'eth0']);
}
