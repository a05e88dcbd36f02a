// Checks the solo5-hvt command line against its documented usage:
//   solo5-hvt [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]
//   --mem=MEM (MB), --net:NAME=IFACE, --block:NAME=PATH
// by running the generated script with a stand-in solo5-hvt that prints the argv it got.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { LaunchSpec } from './launch-spec';
import { launcherFor } from './launcher';
import { solo5HvtArgv, solo5HvtRunScript } from './solo5-launcher';
import type { Solo5Manifest } from './solo5-manifest';

const root = mkdtempSync(`${tmpdir()}/hearth-solo5-unit-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));
spawnSync('mkdir', ['-p', `${root}/bin`, `${root}/app`]);
writeFileSync(`${root}/bin/solo5-hvt`, `#!/bin/sh\nprintf '%s\\0' "$@" > ${root}/argv\n`);
chmodSync(`${root}/bin/solo5-hvt`, 0o755);

const spec: LaunchSpec = {
  appId: 'dns-resolver',
  hostId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  appDir: `${root}/app`,
  arch: 'x86_64',
  kernelPath: `${root}/app/current`,
  memoryMiB: 64,
  volumes: [{ name: 'storage', path: `${root}/app/data/storage.img` }],
  disk: 'virtio',
  ports: [{ name: 'dns', guest: 53, host: 53, protocol: 'udp' }],
  bootArgs: '--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1',
  accel: 'kvm',
};
const manifest: Solo5Manifest = {
  version: 1,
  devices: [
    { name: 'service', type: 'NET_BASIC' },
    { name: 'storage', type: 'BLOCK_BASIC' },
  ],
};
const tapFor = (name: string) => `tap-${name}`.slice(0, 15);

/** Splits argv the way solo5-hvt does: options until "--" or the first non-option. */
function parseHvt(argv: string[]) {
  const options: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i] !== '--' && argv[i]?.startsWith('--'))
    options.push(argv[i++] ?? '');
  if (argv[i] === '--') i++;
  return { options, kernel: argv[i], args: argv.slice(i + 1) };
}

describe('solo5HvtRunScript', () => {
  it('binds every manifest device and passes the documented options', () => {
    const script = solo5HvtRunScript(spec, manifest, { tapFor });
    writeFileSync(`${root}/run`, script);
    const r = spawnSync('sh', [`${root}/run`], {
      env: { ...process.env, PATH: `${root}/bin:${process.env.PATH ?? ''}` },
    });
    expect(r.status).toBe(0);
    const argv = spawnSync('cat', [`${root}/argv`], { encoding: 'utf8' })
      .stdout.split('\0')
      .slice(0, -1);
    expect(argv).toEqual(solo5HvtArgv(spec, manifest, { tapFor }).slice(1));
    const { options, kernel, args } = parseHvt(argv);
    expect(options).toEqual([
      '--mem=64',
      '--net:service=tap-service',
      `--block:storage=${root}/app/data/storage.img`,
    ]);
    for (const o of options)
      expect(o).toMatch(/^--(mem=\d+|net:[A-Za-z0-9]+=\S+|block:[A-Za-z0-9]+=\/\S+)$/);
    expect(kernel).toBe(spec.kernelPath);
    expect(args.join(' ')).toBe(spec.bootArgs);
  });

  it('refuses a manifest block device without a volume, and a volume the image cannot use', () => {
    expect(() => solo5HvtArgv({ ...spec, volumes: [] }, manifest, { tapFor })).toThrow(
      /block device "storage"/,
    );
    expect(() =>
      solo5HvtArgv(
        { ...spec, volumes: [...spec.volumes, { name: 'extra', path: '/x/extra.img' }] },
        manifest,
        { tapFor },
      ),
    ).toThrow(/extra/);
    expect(() => solo5HvtArgv(spec, manifest, { tapFor: () => 'tap0; reboot' })).toThrow(/tap/);
  });
});

describe('launcherFor', () => {
  it('gives each runtime its files with modes', () => {
    const qemu = launcherFor('qemu', { ...spec, accel: 'tcg' }).files;
    expect(qemu.map((f) => [f.path.slice(root.length), f.mode])).toEqual([
      ['/app/run', '0755'],
      ['/app/qmp', '0755'],
      ['/app/stop', '0755'],
    ]);
    const xen = launcherFor('xen', spec).files;
    expect(xen.map((f) => [f.path.slice(root.length), f.mode])).toEqual([
      ['/app/domain.cfg', '0644'],
      ['/app/run', '0755'],
      ['/app/stop', '0755'],
    ]);
    expect(xen[0]?.content).toContain('bridge=xenbr0');
    expect(launcherFor('hvt', spec, { solo5: { manifest, tapFor } }).files).toHaveLength(1);
    expect(() => launcherFor('hvt', spec)).toThrow(/manifest/);
    for (const f of [...qemu, ...xen]) expect(f.content.startsWith('#')).toBe(true);
  });
});
