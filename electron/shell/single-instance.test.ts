import { expect, it } from 'vitest';
import { claimSingleInstance } from './single-instance';

function fakeApp(gotLock: boolean) {
  const events = new Map<string, () => void>();
  let quit = false;
  const app = {
    requestSingleInstanceLock: () => gotLock,
    quit: () => void (quit = true),
    on: (event: string, fn: () => void) => events.set(event, fn),
  };
  return {
    app: app as unknown as Parameters<typeof claimSingleInstance>[0],
    events,
    quitCalled: () => quit,
  };
}

it('a second launch quits and the first one comes to the front', () => {
  let focused = 0;
  const first = fakeApp(true);
  expect(claimSingleInstance(first.app, () => focused++)).toBe(true);
  const second = fakeApp(false);
  expect(claimSingleInstance(second.app, () => focused++)).toBe(false);
  expect(second.quitCalled()).toBe(true);
  first.events.get('second-instance')!();
  expect(focused).toBe(1);
});
