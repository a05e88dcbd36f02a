import { describe, expect, it } from 'vitest';
import { cannotRunWords, onlyForTenders, targetWords } from './runtime-words';

describe('where a build runs, in words', () => {
  it("names Solo5's tenders as what a device needs", () => {
    expect(targetWords(['spt-aarch64', 'hvt-x86_64'])).toBe(
      "an ARM board with Solo5's solo5-spt tender or a PC with KVM and Solo5's solo5-hvt tender",
    );
    expect(targetWords(['qemu-x86_64'])).toBe('a PC with KVM or QEMU');
  });

  it('says an app built only for tenders cannot run on devices without one', () => {
    expect(onlyForTenders(['hvt-x86_64', 'spt-x86_64'])).toBe(true);
    expect(onlyForTenders(['hvt-x86_64', 'qemu-x86_64'])).toBe(false);
    expect(onlyForTenders([])).toBe(false);
    expect(cannotRunWords('DNS resolver', ['spt-x86_64'])).toBe(
      "DNS resolver runs only under Solo5's tenders, and none of your devices has one: it needs a PC with Solo5's solo5-spt tender.",
    );
    expect(cannotRunWords('Counter', ['xen-x86_64'])).toBe(
      'None of your devices can run Counter yet: it needs a PC running Xen.',
    );
  });
});
