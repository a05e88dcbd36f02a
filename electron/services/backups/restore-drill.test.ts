import { describe, expect, it } from 'vitest';
import { appSpec } from '../apps/apps-test-kit';
import { drillAppId, drillSpec, isScratchCopy } from './restore-drill';

describe('the restore drill’s scratch copy', () => {
  it('is known by its id and its marked name together, never by the id alone', () => {
    const scratch = drillSpec({ ...appSpec(), appId: drillAppId('counter') });
    expect(isScratchCopy({ appId: scratch.appId, name: scratch.name })).toBe(true);
    // An app the owner installed under that id keeps its backups and its card.
    expect(isScratchCopy({ appId: 'counter-drill', name: 'Counter drill' })).toBe(false);
    expect(isScratchCopy({ appId: 'counter', name: 'Counter' })).toBe(false);
  });
});
