import { describe, expect, it } from 'vitest';
import { classifyResticFailure } from './restic-errors';

// restic 0.14's own words, as it prints them.
describe('classifyResticFailure', () => {
  it.each([
    ['Fatal: wrong password or no key found', 'wrong-password'],
    [
      'Fatal: unable to open config file: stat /x/config: no such file or directory\nIs there a repository at the following location?\n/x',
      'no-repository',
    ],
    [
      'unable to create lock in backend: repository is already locked by PID 1 on vm by root (UID 0, GID 0)\nlock was created at 2026-12-01 22:19:44 (5.5s ago)\nstorage ID 5f60f9fd\nthe `unlock` command can be used to remove stale locks',
      'locked',
    ],
    ['Fatal: unable to save snapshot: write /x: no space left on device', 'disk-full'],
    ['Fatal: create repository at /x failed: config file already exists', 'already-initialized'],
    ['Pack ID does not match, want 1, got 2\nFatal: repository contains errors', 'damaged'],
    ['Fatal: something else', 'other'],
  ])('%s', (stderr, kind) => {
    expect(classifyResticFailure(stderr)).toBe(kind);
  });
});
