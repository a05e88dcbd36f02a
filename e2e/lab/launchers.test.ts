import { describe, expect, it } from 'vitest';
import { counterKernelArgv } from './counter-kernel';
import { webAppArgv } from './web-app';

const after = (argv: string[], flag: string): string[] =>
  argv.flatMap((a, i) => (a === flag ? [argv[i + 1] as string] : []));

describe('QEMU launchers', () => {
  it('runs the counter kernel with its disk on IDE and a crash exit', () => {
    const argv = counterKernelArgv({
      accel: 'tcg',
      kernel: '/k.elf',
      disk: '/d.img',
      append: 'slow',
    });
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(after(argv, '-accel')).toEqual(['tcg']);
    expect(after(argv, '-drive')).toEqual(['file=/d.img,format=raw,if=ide']);
    expect(after(argv, '-device')).toEqual(['isa-debug-exit,iobase=0xf4,iosize=0x04']);
    expect(after(argv, '-append')).toEqual(['slow']);
    expect(argv).toContain('-no-reboot');
    expect(argv).not.toContain('host');
  });

  it('leaves out disk and boot arguments when there are none', () => {
    const argv = counterKernelArgv({ accel: 'kvm', kernel: '/k.elf' });
    expect(argv).not.toContain('-drive');
    expect(argv).not.toContain('-append');
  });

  it('publishes the web app port on every device address and uses virtio', () => {
    const argv = webAppArgv({
      accel: 'tcg',
      kernel: '/v',
      initrd: '/i',
      append: 'console=ttyS0',
      disk: '/data.img',
      net: { port: 8080 },
    });
    expect(after(argv, '-netdev')).toEqual(['user,id=n0,hostfwd=tcp::8080-:80']);
    expect(after(argv, '-drive')).toEqual(['file=/data.img,format=raw,if=virtio']);
    expect(after(argv, '-initrd')).toEqual(['/i']);
  });

  it("attaches the web app to a device's tap with its MAC, as a tender's unikernel, and no disk", () => {
    const argv = webAppArgv({
      accel: 'tcg',
      kernel: '/v',
      initrd: '/i',
      append: 'console=ttyS0',
      net: { tap: 'hth2n0', mac: '02:00:00:00:00:01' },
    });
    expect(after(argv, '-netdev')).toEqual(['tap,id=n0,ifname=hth2n0,script=no,downscript=no']);
    expect(after(argv, '-device')).toEqual([
      'virtio-net-pci,netdev=n0,mac=02:00:00:00:00:01,romfile=',
    ]);
    expect(argv).not.toContain('-drive');
  });
});
