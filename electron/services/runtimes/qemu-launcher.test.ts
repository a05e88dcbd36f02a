import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { LaunchSpec } from './launch-spec';
import { qemuArgv, qemuRunScript, qmpCommand, stopScript } from './qemu-launcher';

const root = mkdtempSync(`${tmpdir()}/hearth-qemu-unit-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A stand-in qemu-system-* that prints the argv it received, NUL-separated, so a test sees
// exactly what sh passed after all quoting.
const fakeBin = `${root}/bin`;
spawnSync('mkdir', ['-p', fakeBin, `${root}/app`]);
for (const name of ['qemu-system-x86_64', 'qemu-system-aarch64']) {
  writeFileSync(`${fakeBin}/${name}`, `#!/bin/sh\nprintf '%s\\0' "$0" "$@"\n`);
  chmodSync(`${fakeBin}/${name}`, 0o755);
}

function runScript(spec: LaunchSpec): string[] {
  const path = `${root}/run`;
  writeFileSync(path, qemuRunScript(spec));
  const r = spawnSync('sh', [path], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH ?? ''}` },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const [argv0 = '', ...rest] = r.stdout.split('\0').slice(0, -1);
  return [argv0.split('/').pop() ?? '', ...rest];
}

const base: LaunchSpec = {
  appId: 'calendar',
  appDir: `${root}/app`,
  arch: 'x86_64',
  kernelPath: `${root}/app/current`,
  memoryMiB: 64,
  volumes: [],
  disk: 'virtio',
  ports: [],
  bootArgs: '',
  accel: 'tcg',
};

/** The value after each occurrence of `flag`. */
const values = (argv: string[], flag: string): string[] =>
  argv.flatMap((a, i) => (a === flag ? [argv[i + 1] ?? ''] : []));

describe('qemuRunScript', () => {
  it('passes exactly the documented options to QEMU through sh', () => {
    const spec: LaunchSpec = {
      ...base,
      initrdPath: `${root}/app/initrd`,
      volumes: [
        { name: 'data', path: `${root}/app/data/data.img` },
        { name: 'logs', path: `${root}/app/data/logs.img` },
      ],
      ports: [
        { name: 'http', guest: 80, host: 8080, protocol: 'tcp' },
        { name: 'dns', guest: 53, host: 5353, protocol: 'udp' },
      ],
      bootArgs: 'console=ttyS0 quiet',
    };
    const argv = runScript(spec);
    expect(argv).toEqual(qemuArgv(spec));
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(values(argv, '-accel')).toEqual(['tcg']);
    expect(argv).toEqual(expect.arrayContaining(['-nodefaults', '-no-user-config', '-nographic']));
    expect(argv).toContain('-no-reboot');
    expect(argv).not.toContain('-cpu');
    expect(values(argv, '-display')).toEqual(['none']);
    expect(values(argv, '-sandbox')).toEqual([
      'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    ]);
    expect(values(argv, '-m')).toEqual(['64']);
    expect(values(argv, '-kernel')).toEqual([spec.kernelPath]);
    expect(values(argv, '-initrd')).toEqual([spec.initrdPath]);
    expect(values(argv, '-append')).toEqual(['console=ttyS0 quiet']);
    expect(values(argv, '-chardev')).toEqual([
      `file,id=console,path=${root}/app/console.log,append=on`,
    ]);
    expect(values(argv, '-serial')).toEqual(['chardev:console']);
    expect(values(argv, '-qmp')).toEqual([`unix:${root}/app/qmp.sock,server=on,wait=off`]);
    expect(values(argv, '-drive')).toEqual([
      `if=none,id=v0,file=${root}/app/data/data.img,format=raw`,
      `if=none,id=v1,file=${root}/app/data/logs.img,format=raw`,
    ]);
    expect(values(argv, '-netdev')).toEqual([
      'user,id=n0,hostfwd=tcp:0.0.0.0:8080-:80,hostfwd=udp:0.0.0.0:5353-:53',
    ]);
    expect(values(argv, '-device')).toEqual([
      'virtio-blk-pci,drive=v0',
      'virtio-blk-pci,drive=v1',
      'virtio-net-pci,netdev=n0,romfile=',
      'isa-debug-exit,iobase=0xf4,iosize=0x04',
    ]);
    // The run script marks the boot in the console log before QEMU starts.
    expect(readFileSync(`${root}/app/console.log`, 'utf8')).toMatch(
      /^--- hearth: starting calendar at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ---$/m,
    );
  });

  it('gives IDE images indexed IDE disks and no network without ports', () => {
    const argv = runScript({
      ...base,
      disk: 'ide',
      volumes: [{ name: 'disk', path: `${root}/app/data/disk.img` }],
    });
    expect(values(argv, '-drive')).toEqual([
      `file=${root}/app/data/disk.img,format=raw,if=ide,index=0`,
    ]);
    expect(argv).not.toContain('-netdev');
    expect(argv).not.toContain('-append');
  });

  it('uses KVM without -cpu host on x86, and a virt board with a named CPU on aarch64', () => {
    expect(qemuArgv({ ...base, accel: 'kvm' })).not.toContain('host');
    const arm = runScript({ ...base, arch: 'aarch64' });
    expect(arm[0]).toBe('qemu-system-aarch64');
    expect(values(arm, '-M')).toEqual(['virt']);
    expect(values(arm, '-cpu')).toEqual(['cortex-a53']);
    expect(arm.join(' ')).not.toContain('isa-debug-exit');
    expect(values(qemuArgv({ ...base, arch: 'aarch64', accel: 'kvm' }), '-cpu')).toEqual(['max']);
    expect(() =>
      qemuArgv({ ...base, arch: 'aarch64', disk: 'ide', volumes: [{ name: 'd', path: '/x' }] }),
    ).toThrow(/IDE/);
  });

  it('hands any printable boot argument to QEMU verbatim, never to the shell', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e]{1,80}$/), (bootArgs) => {
        const argv = runScript({ ...base, bootArgs });
        expect(values(argv, '-append')).toEqual([bootArgs]);
      }),
      { numRuns: 60 },
    );
    const hostile = `x'; touch ${root}/pwned; echo '$(touch ${root}/pwned2) \`id\` "$HOME"`;
    expect(values(runScript({ ...base, bootArgs: hostile }), '-append')).toEqual([hostile]);
    expect(spawnSync('ls', [`${root}/pwned`, `${root}/pwned2`]).status).not.toBe(0);
  });

  it('refuses values that could escape their place', () => {
    const bad: Partial<LaunchSpec>[] = [
      { appId: 'Calendar' },
      { appId: 'a;b' },
      { appId: `a${'b'.repeat(40)}` },
      { appDir: 'relative/dir' },
      { appDir: '/var/lib/hearth/apps/../../etc' },
      { kernelPath: '/x/k,if=floppy' },
      { kernelPath: "/x/k'" },
      { kernelPath: '/x/$(id)' },
      { initrdPath: '/x/i n' },
      { volumes: [{ name: 'a', path: '/x/a,format=qcow2' }] },
      { volumes: [{ name: 'A b', path: '/x/a' }] },
      {
        volumes: [
          { name: 'a', path: '/x/a' },
          { name: 'a', path: '/x/b' },
        ],
      },
      { ports: [{ name: 'http', guest: 80, host: 0, protocol: 'tcp' }] },
      { ports: [{ name: 'http', guest: 80.5, host: 80, protocol: 'tcp' }] },
      { ports: [{ name: 'http', guest: 80, host: 80, protocol: 'sctp' as 'tcp' }] },
      { memoryMiB: 0 },
      { memoryMiB: 1.5 },
      { bootArgs: 'a\nb' },
      { bootArgs: 'a\0b' },
      { accel: 'hvf' as 'tcg' },
      { arch: 'riscv64' as 'x86_64' },
    ];
    for (const patch of bad) expect(() => qemuArgv({ ...base, ...patch })).toThrow();
  });
});

describe('qmpCommand and stopScript', () => {
  it('negotiates capabilities before each command', () => {
    const lines = qmpCommand('system_powerdown')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([{ execute: 'qmp_capabilities' }, { execute: 'system_powerdown' }]);
    for (const c of ['stop', 'cont', 'quit'] as const)
      expect(qmpCommand(c).split('\n')[1]).toBe(JSON.stringify({ execute: c }));
    expect(() => qmpCommand('human-monitor-command' as 'stop')).toThrow();
  });

  it('stop script is valid sh with a bounded wait', () => {
    const s = stopScript(base, 20);
    writeFileSync(`${root}/stop`, s);
    expect(spawnSync('sh', ['-n', `${root}/stop`]).status).toBe(0);
    expect(s).toContain('system_powerdown');
    expect(s).toContain('-lt 20');
    expect(() => stopScript(base, -1)).toThrow();
    // Nothing running: the stop script returns at once and succeeds.
    expect(spawnSync('sh', [`${root}/stop`], { timeout: 5000 }).status).toBe(0);
  });
});
