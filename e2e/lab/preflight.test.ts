import { describe, expect, it } from 'vitest';
import { whyNot } from './preflight';

describe('preflight', () => {
  it('refuses to run without root, in one line', () => {
    const reason = whyNot({ uid: 1000, has: () => true });
    expect(reason).toMatch(/needs root/);
    expect(reason).not.toContain('\n');
  });

  it('names the missing tools and the Debian packages that bring them', () => {
    const reason = whyNot({ uid: 0, has: (t) => t !== 'debootstrap' && t !== 'systemd-nspawn' });
    expect(reason).toBe(
      'the lab needs debootstrap, systemd-nspawn: apt-get install debootstrap systemd-container',
    );
  });

  it('asks for the kernel toolchain only when kernels are built', () => {
    const has = (t: string): boolean => t !== 'gcc';
    expect(whyNot({ uid: 0, has })).toBeUndefined();
    expect(whyNot({ uid: 0, has, kernels: true })).toMatch(/apt-get install gcc$/);
  });
});
