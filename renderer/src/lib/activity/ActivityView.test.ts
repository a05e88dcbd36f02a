import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../../../shared/errors';
import type { AlertTarget } from '../../../../shared/model';
import { AlertsState } from '../../state/alerts.svelte';
import { NoticesState } from '../../state/notices.svelte';
import { TasksState } from '../../state/tasks.svelte';
import type { FakeHearth } from '../../test-support/fake-hearth';
import { fakeAlert, fakeTask, installFakeHearth } from '../../test-support/fake-hearth';
import ActivityView from './ActivityView.svelte';

let hearth: FakeHearth;
let notices: NoticesState;

beforeEach(() => {
  hearth = installFakeHearth();
  notices = new NoticesState();
});

async function showActivity(onOpen: (target: AlertTarget) => void = () => {}) {
  const tasks = new TasksState(window.hearth, notices);
  const alerts = new AlertsState(window.hearth, notices);
  await Promise.all([tasks.start(), alerts.start()]);
  render(ActivityView, {
    tasks,
    alerts,
    onOpen,
    focusRequest: 1,
    checking: false,
    onCheck: () => {},
  });
  return tasks;
}

function taskCard(title: string) {
  return screen.getByRole('article', { name: title });
}

describe('Activity', () => {
  it('explains itself when nothing has happened yet', async () => {
    await showActivity();
    expect(screen.getByRole('heading', { name: 'Nothing happening right now' })).toBeVisible();
    expect(screen.getByRole('heading', { level: 1, name: 'Activity' })).toHaveFocus();
  });

  it("shows a running task's progress, detail and steps", async () => {
    hearth.tasks = [fakeTask()];
    await showActivity();
    const card = taskCard('Check this computer');

    const bar = within(card).getByRole('progressbar', { name: 'Check this computer' });
    expect(bar).toHaveAttribute('aria-valuemin', '0');
    expect(bar).toHaveAttribute('aria-valuemax', '100');
    expect(bar).toHaveAttribute('aria-valuenow', '25');
    expect(within(card).getByText('Running')).toBeVisible();
    expect(within(card).getByText('Looking at your network')).toBeVisible();

    const steps = within(card).getByRole('list', { name: 'Steps of Check this computer' });
    const [disk, network] = within(steps).getAllByRole('listitem');
    expect(disk).toHaveTextContent('Disk space');
    expect(disk).toHaveTextContent('Done');
    expect(network).toHaveTextContent('In progress');
  });

  it('moves a task to Finished when tasks:updated says so', async () => {
    hearth.tasks = [fakeTask()];
    await showActivity();

    hearth.emit(
      'tasks:updated',
      fakeTask({
        state: 'succeeded',
        progress: { done: 4, total: 4, unit: 'steps' },
        steps: [
          { label: 'Disk space', state: 'done' },
          { label: 'Network', state: 'already-done', note: 'Already set up last time.' },
          { label: 'Clock', state: 'warning', note: 'Your clock is a minute off.' },
        ],
        summary: 'This computer is ready.',
        endedAt: Date.now(),
      }),
    );

    const card = taskCard('Check this computer');
    await expect.poll(() => within(card).queryByText('Finished')).toBeInTheDocument();
    expect(within(card).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
    expect(within(card).getByText('This computer is ready.')).toBeVisible();
    expect(within(card).getByText('Already done')).toBeVisible();
    expect(within(card).getByText('Warning')).toBeVisible();
    expect(within(card).getByText('Your clock is a minute off.')).toBeVisible();
    expect(within(card).queryByRole('button', { name: /^Cancel/ })).not.toBeInTheDocument();
  });

  it('cancels a running task by its id', async () => {
    hearth.tasks = [fakeTask({ id: 'check-7' })];
    await showActivity();

    await fireEvent.click(screen.getByRole('button', { name: 'Cancel Check this computer' }));

    expect(hearth.invokesOf('tasks:cancel')).toEqual([{ id: 'check-7' }]);
  });

  it('offers no Cancel for a task that cannot be cancelled', async () => {
    hearth.tasks = [fakeTask({ cancellable: false })];
    await showActivity();
    expect(screen.queryByRole('button', { name: /^Cancel/ })).not.toBeInTheDocument();
  });

  it("shows a failed task's message", async () => {
    hearth.tasks = [
      fakeTask({
        state: 'failed',
        endedAt: Date.now(),
        steps: [{ label: 'Disk space', state: 'failed', note: 'Less than 1 GB is free.' }],
        error: {
          code: 'DISK_FULL',
          message: "Your computer's disk is full, so Hearth could not save.",
        },
      }),
    ];
    await showActivity();
    const card = taskCard('Check this computer');

    expect(within(card).getAllByText('Failed')).toHaveLength(2); // the task and its step
    expect(
      within(card).getByText("Your computer's disk is full, so Hearth could not save."),
    ).toBeVisible();
    expect(within(card).getByText('Less than 1 GB is free.')).toBeVisible();
  });

  it('says Cancelled for a cancelled task', async () => {
    hearth.tasks = [fakeTask({ state: 'cancelled', endedAt: Date.now(), summary: 'Stopped.' })];
    await showActivity();
    expect(within(taskCard('Check this computer')).getByText('Cancelled')).toBeVisible();
  });

  it('lists the newest task first', async () => {
    hearth.tasks = [
      fakeTask({ id: 'old', title: 'Older task', startedAt: 1000 }),
      fakeTask({ id: 'new', title: 'Newer task', startedAt: 2000 }),
    ];
    await showActivity();
    const titles = screen.getAllByRole('article').map((a) => a.getAttribute('aria-labelledby'));
    expect(titles.map((id) => document.getElementById(id!)?.textContent)).toEqual([
      'Newer task',
      'Older task',
    ]);
  });

  it('shows progress without a number when a task cannot tell how far it is', async () => {
    hearth.tasks = [fakeTask({ progress: null })];
    await showActivity();
    const bar = screen.getByRole('progressbar', { name: 'Check this computer' });
    expect(bar).not.toHaveAttribute('aria-valuenow');
  });

  it('clears finished tasks and keeps running ones', async () => {
    hearth.tasks = [
      fakeTask({ id: 'done', title: 'Done task', state: 'succeeded', endedAt: 5 }),
      fakeTask({ id: 'busy', title: 'Busy task' }),
    ];
    await showActivity();

    await fireEvent.click(screen.getByRole('button', { name: 'Clear finished' }));

    expect(hearth.invokesOf('tasks:clearFinished')).toHaveLength(1);
    await expect.poll(() => screen.queryByRole('article', { name: 'Done task' })).toBeNull();
    expect(taskCard('Busy task')).toBeVisible();
    expect(screen.getByRole('button', { name: 'Clear finished' })).toBeDisabled();
  });

  it('reports a failed cancel as a sentence', async () => {
    hearth.tasks = [fakeTask()];
    hearth.fail('tasks:cancel', new HearthError('NOT_FOUND'));
    await showActivity();

    await fireEvent.click(screen.getByRole('button', { name: 'Cancel Check this computer' }));

    await expect.poll(() => notices.error).toMatch(/could not find what you asked for/);
  });

  it('keeps a finished task finished when a late list answer says it is running', async () => {
    hearth.tasks = [fakeTask()];
    const tasks = await showActivity();
    hearth.emit('tasks:updated', fakeTask({ state: 'succeeded', endedAt: 9 }));
    await tasks.refresh(); // still answers with the running snapshot
    await expect
      .poll(() => within(taskCard('Check this computer')).queryByText('Finished'))
      .toBeInTheDocument();
  });
});

describe('Alerts in Activity', () => {
  const offline = fakeAlert({
    key: 'device-offline:pi',
    kind: 'device-offline',
    message: 'raspberrypi is not answering, so Hearth cannot look after its apps.',
    action: { label: 'Show the device', target: { view: 'devices', deviceId: 'pi' } },
    raisedAt: 1_700_000_100_000,
  });
  const backOnline = fakeAlert({
    key: 'device-offline:pi',
    kind: 'device-offline',
    severity: 'info',
    message: 'raspberrypi is back online.',
    action: null,
    resolvedAt: 1_700_000_050_000,
  });

  it('shows what needs the owner first, then the tasks, then the quiet history', async () => {
    hearth.tasks = [fakeTask()];
    hearth.alerts = {
      open: [fakeAlert(), offline],
      history: [backOnline],
      overall: 'problem',
      summary: '1 device, 0 apps running',
    };
    await showActivity();

    const attention = screen.getByRole('list', { name: 'Needs your attention' });
    const open = within(attention).getAllByRole('article');
    expect(open.map((a) => a.querySelector('p')?.textContent)).toEqual([
      'Counter on raspberrypi kept stopping right after it started, so the device stopped trying.',
      'raspberrypi is not answering, so Hearth cannot look after its apps.',
    ]);
    expect(within(open[0]!).getByRole('button', { name: "Open Counter's console" })).toBeVisible();
    expect(within(open[1]!).getByRole('button', { name: 'Show the device' })).toBeVisible();

    const earlier = screen.getByRole('list', { name: 'Earlier alerts' });
    expect(within(earlier).getByText('raspberrypi is back online.')).toBeVisible();
    expect(within(earlier).queryByRole('button')).not.toBeInTheDocument();

    // In reading order: attention, tasks, history.
    const tasks = screen.getByRole('list', { name: 'Tasks' });
    const follows = (a: Node, b: Node) =>
      Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
    expect(follows(attention, tasks)).toBe(true);
    expect(follows(tasks, earlier)).toBe(true);
  });

  it("takes the owner where an alert's action points", async () => {
    hearth.alerts = { ...hearth.alerts, open: [fakeAlert()], overall: 'problem' };
    const onOpen = vi.fn();
    await showActivity(onOpen);
    await fireEvent.click(screen.getByRole('button', { name: "Open Counter's console" }));
    expect(onOpen).toHaveBeenCalledWith(fakeAlert().action!.target);
  });

  it('follows alerts:changed: a new alert appears, a resolved one moves to the history', async () => {
    await showActivity();
    expect(screen.queryByRole('heading', { name: 'Needs your attention' })).toBeNull();
    expect(screen.getByRole('heading', { name: 'Nothing happening right now' })).toBeVisible();

    hearth.emit('alerts:changed', {
      open: [offline],
      history: [],
      overall: 'problem',
      summary: '1 device, 0 apps running',
    });
    await expect
      .poll(() => screen.queryByRole('heading', { name: 'Needs your attention' }))
      .toBeInTheDocument();
    expect(screen.getByText(offline.message)).toBeVisible();
    expect(screen.queryByRole('heading', { name: 'Nothing happening right now' })).toBeNull();

    hearth.emit('alerts:changed', {
      open: [],
      history: [backOnline],
      overall: 'all-well',
      summary: '1 device, 0 apps running',
    });
    await expect.poll(() => screen.queryByText(offline.message)).toBeNull();
    expect(
      within(screen.getByRole('list', { name: 'Earlier alerts' })).getByText(
        'raspberrypi is back online.',
      ),
    ).toBeVisible();
  });
});
