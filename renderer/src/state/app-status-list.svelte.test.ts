import { describe, expect, it } from 'vitest';
import type { HearthApi } from '../../../shared/hearth-api';
import { AppStatusList } from './app-status-list.svelte';
import { NoticesState } from './notices.svelte';

interface Status {
  deviceId: string;
  appId: string;
  note: string;
}

/** A list whose request answers when the test says, and whose events the test sends. */
class Statuses extends AppStatusList<Status> {
  answer: (list: Status[]) => void = () => undefined;
  fail: (error: Error) => void = () => undefined;

  load(): Promise<void> {
    return this.fetch(
      () =>
        new Promise<Status[]>((resolve, reject) => {
          this.answer = resolve;
          this.fail = reject;
        }),
    );
  }

  event(list: Status[]): void {
    this.received(list);
  }
}

const counter = (note: string): Status => ({ deviceId: 'pi', appId: 'counter', note });

function statuses() {
  const notices = new NoticesState();
  return { list: new Statuses({} as HearthApi, notices), notices };
}

describe('a list of app statuses main keeps fresh', () => {
  it('shows the answer to its request, and is loaded then', async () => {
    const { list } = statuses();
    const loading = list.load();
    expect(list.loaded).toBe(false);
    list.answer([counter('listed')]);
    await loading;
    expect(list.loaded).toBe(true);
    expect(list.statusOf({ deviceId: 'pi', appId: 'counter' })?.note).toBe('listed');
    expect(list.statusOf({ deviceId: 'pi', appId: 'visits' })).toBeUndefined();
  });

  it('keeps a change that arrived while its request was on its way over the older answer', async () => {
    const { list } = statuses();
    const loading = list.load();
    list.event([counter('changed')]);
    list.answer([counter('stale')]);
    await loading;
    expect(list.list).toEqual([counter('changed')]);
  });

  it('tells the owner a request that failed, and stops waiting for it', async () => {
    const { list, notices } = statuses();
    const loading = list.load();
    list.fail(new Error('The device did not answer.'));
    await loading;
    expect(list.loaded).toBe(true);
    expect(list.list).toEqual([]);
    expect(notices.error).not.toBeNull();
  });
});
