import { describe, expect, it } from 'vitest';
import { compareVersions, newestFirst } from './compare-versions';
import { sampleApp } from './test-catalog';

describe('version order', () => {
  it('follows semantic-version precedence', () => {
    const sorted = [
      '1.10.0',
      '1.2.0',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.0-alpha',
      '1.0.0-alpha.10',
      '1.0.0-alpha.2',
    ].sort(compareVersions);
    expect(sorted).toEqual([
      '1.0.0-alpha',
      '1.0.0-alpha.2',
      '1.0.0-alpha.10',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0',
      '1.10.0',
    ]);
  });

  it('puts releases before pre-releases when choosing the newest', () => {
    const base = sampleApp().versions[0]!;
    const versions = ['1.0.0', '2.0.0-beta.1', '1.1.0'].map((version) => ({ ...base, version }));
    expect(newestFirst(versions).map((v) => v.version)).toEqual(['1.1.0', '1.0.0', '2.0.0-beta.1']);
  });
});
