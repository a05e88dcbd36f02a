import { describe, expect, it } from 'vitest';
import { NavigationState } from './navigation.svelte';

const crasher = {
  view: 'apps',
  deviceId: 'pi',
  appId: 'crasher',
  show: 'console',
} as const;

describe('NavigationState.open', () => {
  it("goes to the target's view, focused, holding the app it names until the view shows it", () => {
    const nav = new NavigationState();
    nav.addDevice();
    const before = nav.focusRequest;

    nav.open(crasher);

    expect(nav.view).toBe('apps');
    expect(nav.addingDevice).toBe(false);
    expect(nav.focusRequest).toBe(before + 1);
    expect(nav.opening).toEqual(crasher);
    nav.opened();
    expect(nav.opening).toBeNull();
  });

  it('holds the device a target names too', () => {
    const nav = new NavigationState();
    nav.open({ view: 'devices', deviceId: 'pi' });
    expect(nav.view).toBe('devices');
    expect(nav.opening).toEqual({ view: 'devices', deviceId: 'pi' });
  });

  it('holds nothing for a target that names only a view', () => {
    const nav = new NavigationState();
    nav.open({ view: 'activity' });
    expect(nav.view).toBe('activity');
    expect(nav.opening).toBeNull();
  });

  it('forgets what it held once the owner goes somewhere else', () => {
    const nav = new NavigationState();
    nav.open(crasher);
    nav.go('backups');
    nav.go('apps');
    expect(nav.opening).toBeNull();
  });
});
