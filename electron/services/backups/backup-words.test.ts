import { describe, expect, it } from 'vitest';
import { formatBytes, formatSeconds, progressDetail } from './backup-words';

describe('backup words', () => {
  it('says sizes and times as a person reads them', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(3 * 1024 * 1024 + 200_000)).toBe('3.2 MiB');
    expect(formatBytes(1024 ** 3)).toBe('1.0 GiB');
    expect(formatSeconds(0.2)).toBe('1 s');
    expect(formatSeconds(125)).toBe('2 min');
    expect(formatSeconds(3 * 3600 + 60 * 5)).toBe('3 h 5 min');
    expect(progressDetail('Counter', 1024 ** 2, 1024 ** 3, 42)).toBe(
      'Saving Counter’s data: 1.0 MiB of 1.0 GiB, about 42 s left',
    );
    expect(progressDetail('Counter', 0, 10, null)).toBe(
      'Saving Counter’s data: 0 bytes of 10 bytes',
    );
  });
});
