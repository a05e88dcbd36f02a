import { describe, expect, it } from 'vitest';
import type { CatalogApp } from '../../../shared/model';
import { fakeDevice } from '../test-support/fake-hearth';
import { appStateWords, canRestart, canStart, canStop, canRunOn } from './app-words';

const app = (targets: string[]): CatalogApp => ({
  id: 'counter',
  name: 'Counter',
  summary: 'Counts things.',
  description: '',
  icon: null,
  version: '1.0.0',
  targets,
  catalogName: 'Hearth',
});

const xenHost = fakeDevice({
  name: 'Study PC',
  hypervisor: 'xen',
  capabilities: { ...fakeDevice().capabilities, arch: 'x86_64', rawArch: 'x86_64', xenDom0: true },
});

describe('canRunOn', () => {
  it('does not offer a Xen host an app with only QEMU builds', () => {
    expect(canRunOn(app(['qemu-x86_64']), xenHost)).toBe(false);
    expect(canRunOn(app(['qemu-x86_64', 'xen-x86_64']), xenHost)).toBe(true);
  });

  it('offers a board the build for its processor', () => {
    expect(canRunOn(app(['qemu-aarch64']), fakeDevice())).toBe(true);
    expect(canRunOn(app(['qemu-x86_64']), fakeDevice())).toBe(false);
  });

  it('offers an armv7 board nothing', () => {
    const old = fakeDevice({
      capabilities: { ...fakeDevice().capabilities, arch: 'armv7', rawArch: 'armv7l' },
    });
    expect(canRunOn(app(['qemu-x86_64', 'qemu-aarch64', 'xen-x86_64']), old)).toBe(false);
  });
});

describe('a sleeping app', () => {
  it('reads as asleep, not stopped, and offers no button that would only wake it for nothing', () => {
    expect(appStateWords({ state: 'sleeping', restarts: 0 })).toBe(
      'Sleeping · wakes on the first visit',
    );
    expect([canStart('sleeping'), canStop('sleeping'), canRestart('sleeping')]).toEqual([
      false,
      false,
      false,
    ]);
  });
});
