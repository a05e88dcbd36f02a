import { describe, expect, it } from 'vitest';
import { resticTime } from './restic-time';

describe('resticTime', () => {
  it('gives restic UTC and the time in UTC, so no DST hour is ambiguous', () => {
    expect(resticTime(new Date('2026-10-25T01:30:05.900Z'), 'linux')).toEqual({
      value: '2026-10-25 01:30:05',
      env: { TZ: 'UTC' },
    });
  });

  it('gives the local time on Windows, where Go ignores TZ', () => {
    const t = new Date(2026, 0, 2, 3, 4, 5);
    expect(resticTime(t, 'win32')).toEqual({ value: '2026-01-02 03:04:05', env: {} });
  });
});
