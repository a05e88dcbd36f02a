import { describe, expect, it } from 'vitest';
import { pointTags } from './backup-format';
import { toPoints } from './backup-points';

const tags = pointTags({
  appId: 'counter',
  appName: 'Counter',
  appVersion: '1.0',
  sizeBytes: 2048,
  volumes: ['storage'],
});

describe('backup points', () => {
  it('lists Hearth’s snapshots newest first, with what the tags say', () => {
    const points = toPoints([
      { id: 'a1', time: 10, host: 'dev-1', paths: ['/counter.tar'], tags },
      { id: 'b2', time: 30, host: 'dev-1', paths: ['/counter.tar'], tags },
    ]);
    expect(points.map((p) => p.id)).toEqual(['b2', 'a1']);
    expect(points[0]).toEqual({
      id: 'b2',
      deviceId: 'dev-1',
      appId: 'counter',
      appName: 'Counter',
      appVersion: '1.0',
      takenAt: 30,
      sizeBytes: 2048,
      volumes: ['storage'],
    });
  });

  it('dates a point by the moment of its copy when the run tagged it, by restic’s time otherwise', () => {
    const tagged = pointTags({
      appId: 'counter',
      appName: 'Counter',
      appVersion: '1.0',
      sizeBytes: 2048,
      volumes: ['storage'],
      takenAt: 25,
      pausedMs: 3,
    });
    const points = toPoints([
      { id: 'a1', time: 27, host: 'dev-1', paths: ['/counter.tar'], tags: tagged },
      { id: 'b2', time: 26, host: 'dev-1', paths: ['/counter.tar'], tags },
    ]);
    expect(points.map((p) => [p.id, p.takenAt])).toEqual([
      ['b2', 26],
      ['a1', 25],
    ]);
  });

  it('offers nothing that is not Hearth’s own, or whose path and tags disagree', () => {
    expect(
      toPoints([
        { id: 'x', time: 1, host: 'h', paths: ['/home/me'], tags: ['hearth'] },
        { id: 'y', time: 1, host: 'h', paths: ['/counter.tar'], tags: [] },
        { id: 'z', time: 1, host: 'h', paths: ['/other.tar'], tags },
        { id: 'w', time: 1, host: 'h', paths: ['/a.tar', '/b.tar'], tags: ['hearth'] },
      ]),
    ).toEqual([]);
  });
});
