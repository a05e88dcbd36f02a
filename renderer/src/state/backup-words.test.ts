import { describe, expect, it } from 'vitest';
import {
  everyWords,
  isAbsoluteFolder,
  sizeWords,
  timeLeftWords,
  whenPhrase,
  whenWords,
} from './backup-words';
import { fakeTask } from '../test-support/fake-hearth';

const now = new Date(2026, 11, 1, 14, 30).getTime();
const at = (day: number, hours: number, minutes = 0) =>
  new Date(2026, 11, day, hours, minutes).getTime();
const clock = (time: number) =>
  new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(time);

describe('whenWords', () => {
  it('says today, yesterday and tomorrow with the time', () => {
    expect(whenWords(at(1, 14, 2), now)).toBe(`Today at ${clock(at(1, 14, 2))}`);
    expect(whenWords(at(1, 14, 2) - 86_400_000, now)).toMatch(/^Yesterday at /);
    expect(whenWords(at(2, 3), now)).toBe(`Tomorrow at ${clock(at(2, 3))}`);
  });

  it('counts days back for the last two weeks, then gives the date', () => {
    expect(whenWords(now - 3 * 86_400_000, now)).toBe('3 days ago');
    expect(whenWords(now - 20 * 86_400_000, now)).not.toMatch(/ago/);
    expect(whenWords(new Date(2025, 5, 1).getTime(), now)).toMatch(/2025/);
  });

  it('names the weekday for the coming week', () => {
    const friday = at(4, 3);
    const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'long' }).format(friday);
    expect(whenWords(friday, now)).toBe(`${weekday} at ${clock(friday)}`);
    expect(whenPhrase(friday, now)).toBe(`on ${weekday} at ${clock(friday)}`);
    expect(whenPhrase(now - 3 * 86_400_000, now)).toBe('3 days ago');
  });
});

describe('sizeWords', () => {
  it.each([
    [512, '512 B'],
    [2048, '2 KiB'],
    [12.5 * 1024 ** 2, '12.5 MiB'],
    [3.24 * 1024 ** 3, '3.2 GiB'],
    [200 * 1024 ** 3, '200 GiB'],
  ])('%d bytes is %s', (bytes, words) => {
    expect(sizeWords(bytes)).toBe(words);
  });
});

describe('schedules and folders', () => {
  it('words intervals', () => {
    expect(everyWords(24)).toBe('Every day');
    expect(everyWords(48)).toBe('Every 2 days');
    expect(everyWords(3)).toBe('Every 3 hours');
  });

  it('takes only absolute folders', () => {
    expect(isAbsoluteFolder('/home/owner/Hearth Backups')).toBe(true);
    expect(isAbsoluteFolder('D:\\Hearth Backups')).toBe(true);
    expect(isAbsoluteFolder('Hearth Backups')).toBe(false);
    expect(isAbsoluteFolder('/tmp/a\nb')).toBe(false);
  });
});

describe('timeLeftWords', () => {
  it('estimates from the pace so far', () => {
    const task = fakeTask({
      progress: { done: 1, total: 4, unit: 'bytes' },
      startedAt: now - 60_000,
    });
    expect(timeLeftWords(task, now)).toBe('about 3 minutes left');
    expect(timeLeftWords({ ...task, startedAt: now - 1000 }, now)).toBeNull();
    expect(timeLeftWords({ ...task, state: 'succeeded' }, now)).toBeNull();
  });
});
