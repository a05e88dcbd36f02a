// The Apps view as App.svelte builds it, on the fake window.hearth: its states made and
// started, then the view rendered. Component tests of the view and of what it holds use it.
import { render } from '@testing-library/svelte';
import type { ComponentProps } from 'svelte';
import { vi } from 'vitest';
import AppsView from '../lib/apps/AppsView.svelte';
import { AppsState } from '../state/apps.svelte';
import { CatalogState } from '../state/catalog.svelte';
import { DevicesState } from '../state/devices.svelte';
import { NoticesState } from '../state/notices.svelte';
import { TasksState } from '../state/tasks.svelte';
import { UpdatesState } from '../state/updates.svelte';

type Extra = Partial<Pick<ComponentProps<typeof AppsView>, 'opening'>>;

export async function showAppsView(notices = new NoticesState(), extra: Extra = {}) {
  const tasks = new TasksState(window.hearth, notices);
  const devices = new DevicesState(window.hearth, notices);
  const catalog = new CatalogState(window.hearth, notices);
  const apps = new AppsState(window.hearth, tasks, notices);
  const updates = new UpdatesState(window.hearth, tasks, notices);
  await Promise.all([
    tasks.start(),
    devices.start(),
    catalog.start(),
    apps.start(),
    updates.start(),
  ]);
  const onAddDevice = vi.fn();
  const onOpened = vi.fn();
  const { container } = render(AppsView, {
    apps,
    catalog,
    devices,
    tasks,
    updates,
    focusRequest: 1,
    onAddDevice,
    onOpened,
    ...extra,
  });
  return { apps, tasks, updates, onAddDevice, onOpened, container };
}
