import { describe, expect, it } from 'vitest';
import { backupManifestSchema, parsePointTags, pointTags } from './backup-format';

describe('backup format', () => {
  it('keeps a point’s facts in tags restic cannot split, and reads them back', () => {
    const facts = {
      appId: 'counter',
      appName: 'Visit counter, for the kids',
      appVersion: '2.0 beta',
      sizeBytes: 1_073_741_824,
      volumes: ['storage', 'logs'],
      takenAt: 1_795_000_000_123,
      pausedMs: 412,
    };
    const tags = pointTags(facts);
    expect(tags.every((t) => !t.includes(',') && !t.includes(' '))).toBe(true);
    expect(tags).toContain('hearth');
    expect(parsePointTags(tags)).toEqual(facts);
  });

  it('ignores tags it does not know or cannot trust', () => {
    expect(
      parsePointTags([
        'hearth',
        'app=../etc',
        'size=-1',
        'volumes=ok.BAD.x',
        'name=%E0%A4%A',
        'junk',
      ]),
    ).toEqual({ volumes: ['ok', 'x'], appName: '%E0%A4%A' });
  });

  it('reads a manifest without the moment it was taken (now in tags), and one from before with it', () => {
    const manifest = {
      format: 1,
      deviceId: 'd1',
      appId: 'counter',
      appName: 'Counter',
      appVersion: '1',
      volumes: [{ name: 'storage', sizeBytes: 10, sha256: 'a'.repeat(64) }],
      image: { sha256: 'b'.repeat(64), sizeBytes: 5 },
    };
    expect(backupManifestSchema.parse(manifest)).toEqual(manifest);
    expect(backupManifestSchema.parse({ ...manifest, takenAt: 7, pausedMs: 3 })).toMatchObject({
      takenAt: 7,
      pausedMs: 3,
    });
    expect(backupManifestSchema.safeParse({ ...manifest, takenAt: -1 }).success).toBe(false);
  });

  it('accepts only a manifest of this format', () => {
    const manifest = {
      format: 1,
      deviceId: 'd1',
      appId: 'counter',
      appName: 'Counter',
      appVersion: '1',
      takenAt: 1,
      pausedMs: 20,
      volumes: [{ name: 'storage', sizeBytes: 10, sha256: 'a'.repeat(64) }],
      image: { sha256: 'b'.repeat(64), sizeBytes: 5 },
    };
    expect(backupManifestSchema.safeParse(manifest).success).toBe(true);
    expect(backupManifestSchema.safeParse({ ...manifest, format: 2 }).success).toBe(false);
    expect(
      backupManifestSchema.safeParse({
        ...manifest,
        volumes: [{ name: '../x', sizeBytes: 1, sha256: 'a'.repeat(64) }],
      }).success,
    ).toBe(false);
  });
});
