// Checks the tenders' command lines against Solo5's documented usage (tenders/hvt/hvt_main.c,
// tenders/spt/spt_main.c and their net and block modules):
//   solo5-<tender> [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]
//   --mem=MB, --net:NAME=IFACE, --net-mac:NAME=HWADDR, --block:NAME=PATH
// by running the generated script with a stand-in tender that records the argv it got, with the
// file the device's agent writes at net-up in place.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { appNetEnvInShell } from '../device/layout';
import type { LaunchSpec } from './launch-spec';
import { launcherFor } from './launcher';
import { solo5Argv, solo5ControlScript, solo5Mac, solo5RunScript } from './solo5-launcher';
import type { Tender } from './solo5-launcher';

const root = mkdtempSync(`${tmpdir()}/hearth-solo5-unit-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(`${root}/bin`);
mkdirSync(`${root}/app`);
for (const tender of ['hvt', 'spt'])
  writeFileSync(
    `${root}/bin/solo5-${tender}`,
    `#!/bin/sh\nprintf '%s\\0' "$0" "$@" > ${root}/argv\necho "Solo5: tender ${tender} ran"\n`,
    { mode: 0o755 },
  );

const hostId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const base: LaunchSpec = {
  appId: 'dns-resolver',
  hostId,
  appDir: `${root}/app`,
  arch: 'x86_64',
  kernelPath: `${root}/app/current`,
  memoryMiB: 64,
  volumes: [],
  disk: 'virtio',
  ports: [],
  bootArgs: '',
  accel: 'kvm',
};
const net = (name: string) => ({ name, type: 'NET_BASIC' as const });
const block = (name: string) => ({ name, type: 'BLOCK_BASIC' as const });
const volume = (name: string) => ({ name, path: `${root}/app/data/${name}.img` });
const dns = { name: 'dns', guest: 53, host: 53, protocol: 'udp' as const };

/** The run script as the unit runs it: its agent file where the layout says (under `root`). */
function run(tender: Tender, spec: LaunchSpec, agentFile: string | null) {
  const envPath = appNetEnvInShell(spec.appId);
  // The script reads the agent's file at its device path: point it into the test folder.
  const script = solo5RunScript(tender, spec).replaceAll(envPath, `${root}/net.env`);
  rmSync(`${root}/net.env`, { force: true });
  rmSync(`${root}/argv`, { force: true });
  if (agentFile !== null) writeFileSync(`${root}/net.env`, agentFile);
  writeFileSync(`${root}/run`, script);
  chmodSync(`${root}/run`, 0o755);
  const r = spawnSync('sh', [`${root}/run`], {
    env: { ...process.env, PATH: `${root}/bin:${process.env.PATH ?? ''}` },
    encoding: 'utf8',
  });
  let argv: string[] = [];
  try {
    argv = readFileSync(`${root}/argv`, 'utf8').split('\0').slice(0, -1);
  } catch {
    // The tender never ran.
  }
  return { status: r.status, argv, log: readFileSync(`${root}/app/console.log`, 'utf8') };
}

/** Splits argv the way the tenders do: options until "--" or the first non-option. */
function parseTender(argv: string[]) {
  const [program, ...rest] = argv;
  const options: string[] = [];
  let i = 0;
  while (i < rest.length && rest[i] !== '--' && rest[i]?.startsWith('--'))
    options.push(rest[i++] ?? '');
  if (rest[i] === '--') i++;
  return { program, options, kernel: rest[i], args: rest.slice(i + 1) };
}

const documented =
  /^--(mem=\d+|net:[A-Za-z0-9]+=hth\d+n\d|net-mac:[A-Za-z0-9]+=([0-9a-f]{2}:){5}[0-9a-f]{2}|block:[A-Za-z0-9]+=\/\S+)$/;

const agentFile = (taps: number, slot = 7) =>
  [
    ...Array.from({ length: taps }, (_, i) => `tap${i} hth${slot}n${i}`),
    `ipv4 10.213.0.${slot}/24`,
    'gateway 10.213.0.1',
    '',
  ].join('\n');

describe.each(['hvt', 'spt'] as const)('the solo5-%s run script', (tender) => {
  it('runs a unikernel that needs no devices with memory, kernel and arguments only', () => {
    const spec = { ...base, solo5: { devices: [] }, bootArgs: '--hello=world' };
    const r = run(tender, spec, null);
    expect(r.status).toBe(0);
    const { program, options, kernel, args } = parseTender(r.argv);
    expect(program).toBe(`${root}/bin/solo5-${tender}`);
    expect(options).toEqual(['--mem=64']);
    expect(kernel).toBe(spec.kernelPath);
    expect(args).toEqual(['--hello=world']);
    // The console view: the boot marker, then what the tender printed.
    expect(r.log).toMatch(/--- hearth: starting dns-resolver at .*\nSolo5: tender .* ran\n$/);
  });

  it('wires one block device to the volume of its name', () => {
    const spec = { ...base, volumes: [volume('storage')], solo5: { devices: [block('storage')] } };
    const { options } = parseTender(run(tender, spec, null).argv);
    expect(options).toEqual(['--mem=64', `--block:storage=${root}/app/data/storage.img`]);
  });

  it('wires one network to the tap the agent made, with a stable MAC and its address', () => {
    const spec = { ...base, ports: [dns], solo5: { devices: [net('service')] } };
    const r = run(tender, spec, agentFile(1));
    expect(r.status).toBe(0);
    const { options, kernel, args } = parseTender(r.argv);
    const mac = solo5Mac(hostId, 'dns-resolver', 'service');
    expect(options).toEqual(['--mem=64', '--net:service=hth7n0', `--net-mac:service=${mac}`]);
    expect(kernel).toBe(spec.kernelPath);
    // MirageOS's own options for its address (mirage's tcpip: --ipv4, --ipv4-gateway).
    expect(args).toEqual(['--ipv4=10.213.0.7/24', '--ipv4-gateway=10.213.0.1']);
    expect(r.argv.slice(1)).toEqual(
      solo5Argv(tender, spec, {
        taps: ['hth7n0'],
        ipv4: '10.213.0.7/24',
        gateway: '10.213.0.1',
      }).slice(1),
    );
    expect(mac).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/); // unicast, locally administered
    expect(solo5Mac(hostId, 'dns-resolver', 'service')).toBe(mac);
    expect(solo5Mac(hostId, 'other-app', 'service')).not.toBe(mac);
  });

  it('wires a network and two block devices, each by its manifest name', () => {
    const spec: LaunchSpec = {
      ...base,
      ports: [dns],
      volumes: [volume('data'), volume('cache')],
      bootArgs: '--ipv4=10.213.0.7/24 --ipv4-gateway=10.213.0.1 -l debug',
      solo5: { devices: [block('cache'), net('service'), block('data')] },
    };
    const r = run(tender, spec, agentFile(1));
    expect(r.status).toBe(0);
    const { options, args } = parseTender(r.argv);
    expect(options).toEqual([
      '--mem=64',
      '--net:service=hth7n0',
      `--net-mac:service=${solo5Mac(hostId, 'dns-resolver', 'service')}`,
      `--block:cache=${root}/app/data/cache.img`,
      `--block:data=${root}/app/data/data.img`,
    ]);
    for (const o of options) expect(o).toMatch(documented);
    // The owner gave the address: Hearth adds none of its own.
    expect(args).toEqual([spec.bootArgs]);
  });

  it('does not start on an agent file that is missing or out of shape', () => {
    const spec = { ...base, ports: [dns], solo5: { devices: [net('service')] } };
    for (const file of [
      null,
      agentFile(1).replace('hth7n0', 'eth0'),
      agentFile(1).replace('10.213.0.7/24', '10.213.0.7/24;reboot'),
      agentFile(1).replace('10.213.0.7/24', '192.168.1.7/24'),
      agentFile(1).replace('gateway 10.213.0.1', 'gateway 10.213.0.9'),
    ]) {
      const r = run(tender, spec, file);
      expect(r.status).toBe(1);
      expect(r.argv).toEqual([]);
      expect(r.log).toContain('the network of dns-resolver is not ready');
    }
  });
});

describe('what Hearth cannot give a Solo5 image', () => {
  const refused = (spec: LaunchSpec) => () => solo5RunScript('spt', spec);
  const code = expect.objectContaining({ code: 'SOLO5_DEVICE_MISSING' }) as Error;

  it('refuses, naming the device, before anything is written', () => {
    expect(refused({ ...base, solo5: { devices: [block('storage')] } })).toThrow(code);
    expect(refused({ ...base, solo5: { devices: [block('storage')] } })).toThrow(
      /storage device called storage/,
    );
    expect(
      refused({ ...base, volumes: [volume('extra')], solo5: { devices: [block('storage')] } }),
    ).toThrow(/storage device called storage/);
    expect(refused({ ...base, volumes: [volume('extra')], solo5: { devices: [] } })).toThrow(
      /volume extra/,
    );
    // A network needs a published port (that is how the owner reaches it).
    expect(refused({ ...base, solo5: { devices: [net('service')] } })).toThrow(
      /network called service/,
    );
    // A second network would need MirageOS's --NAME-ipv4 for a group the manifest does not name.
    const two = { ...base, ports: [dns], solo5: { devices: [net('service'), net('private')] } };
    expect(refused(two)).toThrow(code);
    expect(refused(two)).toThrow(
      'This unikernel needs 2 networks (service, private); Hearth can give an app one network with an address, so it cannot run this one.',
    );
    expect(refused(base)).toThrow(code);
  });

  it('backs a block device named in capitals with the volume the form suggested for it', () => {
    const spec = { ...base, volumes: [volume('storage')], solo5: { devices: [block('Storage')] } };
    expect(solo5Argv('spt', spec)).toContain(`--block:Storage=${root}/app/data/storage.img`);
    const twins = { ...spec, solo5: { devices: [block('Storage'), block('storage')] } };
    expect(refused(twins)).toThrow(/share the volume storage/);
  });

  it('refuses a manifest device name no tender would take', () => {
    expect(refused({ ...base, solo5: { devices: [net('svc;reboot')] } })).toThrow(/out of shape/);
  });
});

describe('the tender control script (backups pause the app with it)', () => {
  it('pauses and resumes the tender the unit runs, answering as QEMU would', () => {
    const tenderProcess = spawn('sleep', ['30']);
    try {
      writeFileSync(
        `${root}/bin/systemctl`,
        `#!/bin/sh\n[ "$*" = "show -p MainPID --value hearth-app@dns-resolver.service" ] && echo ${tenderProcess.pid}\n`,
        { mode: 0o755 },
      );
      writeFileSync(`${root}/qmp`, solo5ControlScript('spt', base), { mode: 0o755 });
      const qmp = (command: string) =>
        spawnSync(`${root}/qmp`, [command], {
          env: { PATH: `${root}/bin:/usr/bin:/bin` },
          encoding: 'utf8',
        });
      const status = () => {
        // The kernel marks a stopped process a moment after the signal.
        spawnSync('sleep', ['0.1']);
        return qmp('query-status').stdout;
      };
      expect(status()).toMatch(/"running": *true/);
      expect(qmp('stop').status).toBe(0);
      expect(status()).toMatch(/"running": *false/);
      expect(qmp('cont').status).toBe(0);
      expect(status()).toMatch(/"running": *true/);
      expect(qmp('reboot').status).toBe(2);
      // Not running (MainPID 0): an error, as QMP gives when QEMU is gone.
      writeFileSync(`${root}/bin/systemctl`, '#!/bin/sh\necho 0\n', { mode: 0o755 });
      expect(qmp('stop').status).toBe(1);
    } finally {
      tenderProcess.kill('SIGKILL');
      rmSync(`${root}/bin/systemctl`, { force: true });
    }
  });
});

describe('launcherFor', () => {
  it('gives each runtime its files with modes', () => {
    const qemu = launcherFor('qemu', { ...base, accel: 'tcg' }).files;
    expect(qemu.map((f) => [f.path.slice(root.length), f.mode])).toEqual([
      ['/app/run', '0755'],
      ['/app/qmp', '0755'],
      ['/app/stop', '0755'],
    ]);
    const xen = launcherFor('xen', { ...base, ports: [dns] }).files;
    expect(xen.map((f) => [f.path.slice(root.length), f.mode])).toEqual([
      ['/app/domain.cfg', '0644'],
      ['/app/run', '0755'],
      ['/app/stop', '0755'],
    ]);
    expect(xen[0]?.content).toContain('bridge=xenbr0');
    for (const tender of ['hvt', 'spt'] as const) {
      const files = launcherFor(tender, { ...base, solo5: { devices: [] } }).files;
      expect(files.map((f) => [f.path.slice(root.length), f.mode])).toEqual([
        ['/app/run', '0755'],
        ['/app/qmp', '0755'],
      ]);
      expect(files[0]?.content).toMatch(new RegExp(`^exec '?solo5-${tender}'? '?--mem=64`, 'm'));
    }
    expect(() => launcherFor('hvt', base)).toThrow(/manifest/);
    for (const f of [...qemu, ...xen]) expect(f.content.startsWith('#')).toBe(true);
  });
});
