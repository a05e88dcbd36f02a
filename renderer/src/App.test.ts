import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../shared/errors';
import App from './App.svelte';
import type { FakeHearth } from './test-support/fake-hearth';
import {
  fakeAlert,
  fakeDevice,
  fakeInstalledApp,
  fakeTask,
  installFakeHearth,
} from './test-support/fake-hearth';

let hearth: FakeHearth;

beforeEach(() => {
  hearth = installFakeHearth();
});

afterEach(() => {
  delete document.documentElement.dataset.theme;
});

async function openApp(welcomeDone = true) {
  hearth.settings = {
    theme: 'system',
    welcomeDone,
    allowUnprotectedKey: false,
    startAtLogin: false,
    closeToTrayNoticeShown: false,
  };
  render(App);
  if (welcomeDone) await screen.findByRole('navigation', { name: 'Main' });
  else await screen.findByRole('heading', { name: 'Welcome to Hearth' });
}

describe('first run', () => {
  it('welcomes a new owner and leads to adding a device', async () => {
    await openApp(false);
    expect(screen.queryByRole('navigation', { name: 'Main' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Add your first device' })).toBeVisible();
  });

  it('hides the welcome after "Explore Hearth" and remembers it', async () => {
    await openApp(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Explore Hearth' }));

    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeVisible();
    expect(screen.queryByRole('heading', { name: 'Welcome to Hearth' })).not.toBeInTheDocument();
    expect(hearth.invokesOf('settings:update')).toEqual([{ welcomeDone: true }]);
    expect(screen.getByRole('button', { name: 'Devices' })).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('heading', { name: 'No devices yet' })).toBeVisible();
  });

  it('opens the add-device wizard from the welcome, and can leave it', async () => {
    await openApp(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Add your first device' }));

    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
    expect(screen.queryByText(/coming in the next version/)).not.toBeInTheDocument();
    expect(hearth.invokesOf('discovery:list')).toHaveLength(1);

    await fireEvent.click(screen.getByRole('button', { name: 'Explore Hearth' }));
    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeVisible();
    expect(hearth.invokesOf('settings:update')).toEqual([{ welcomeDone: true }]);
  });

  it('does not show the welcome to a returning owner', async () => {
    await openApp(true);
    expect(screen.queryByRole('heading', { name: 'Welcome to Hearth' })).not.toBeInTheDocument();
  });
});

describe('navigation', () => {
  it('switches views, marks the current one and focuses its heading', async () => {
    await openApp();
    const nav = screen.getByRole('navigation', { name: 'Main' });

    for (const name of ['Apps', 'Backups', 'Activity', 'Devices']) {
      await fireEvent.click(within(nav).getByRole('button', { name }));
      expect(within(nav).getByRole('button', { name })).toHaveAttribute('aria-current', 'page');
      expect(screen.getByRole('heading', { level: 1, name })).toHaveFocus();
    }
    expect(within(nav).getByRole('button', { name: 'Apps' })).not.toHaveAttribute('aria-current');
  });

  it('offers a skip link to the content', async () => {
    await openApp();
    expect(screen.getByRole('link', { name: 'Skip to content' })).toHaveAttribute(
      'href',
      '#content',
    );
    expect(screen.getByRole('main')).toHaveAttribute('id', 'content');
  });

  it('leads from the empty Devices view to the wizard and back', async () => {
    await openApp();
    await fireEvent.click(await screen.findByRole('button', { name: 'Add your first device' }));
    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
    await fireEvent.click(screen.getByRole('button', { name: 'Not now' }));
    expect(screen.getByRole('heading', { name: 'No devices yet' })).toBeVisible();
  });

  it('lists prepared devices and offers to add another', async () => {
    hearth.devices = [fakeDevice({ name: 'Living-room Pi' })];
    await openApp();
    const list = await screen.findByRole('list', { name: 'Your devices' });
    const card = within(list).getByRole('article', { name: 'Living-room Pi' });
    expect(card).toHaveTextContent('Hearth device');
    expect(card).toHaveTextContent('Debian GNU/Linux 12, aarch64');
    expect(card).toHaveTextContent('raspberrypi.local');
    expect(card).toHaveTextContent('192.168.1.20');

    await fireEvent.click(screen.getByRole('button', { name: 'Add device' }));
    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
  });

  it('keeps the device list fresh', async () => {
    await openApp();
    await screen.findByRole('heading', { name: 'No devices yet' });
    hearth.emit('devices:changed', [fakeDevice({ name: 'Attic box' })]);
    expect(await screen.findByRole('article', { name: 'Attic box' })).toBeVisible();
  });

  it('looks up backups when the owner first opens them', async () => {
    await openApp();
    expect(hearth.invokesOf('backups:setup')).toEqual([]);
    await fireEvent.click(screen.getByRole('button', { name: 'Backups' }));
    expect(await screen.findByRole('region', { name: 'Set up backups' })).toBeVisible();
    expect(hearth.invokesOf('backups:setup')).toHaveLength(1);
    expect(hearth.invokesOf('backups:list')).toHaveLength(1);
  });

  it('checks this computer from Activity', async () => {
    await openApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Activity' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Check this computer' }));
    expect(hearth.invokesOf('checks:run')).toHaveLength(1);
  });
});

describe('alerts', () => {
  it("an alert's action opens the app it names, with its console", async () => {
    // Counter on raspberrypi gave up; the alert says so.
    const alert = fakeAlert();
    hearth.devices = [fakeDevice({ id: alert.deviceId!, name: 'raspberrypi' })];
    hearth.apps = [
      fakeInstalledApp({ deviceId: alert.deviceId!, deviceName: 'raspberrypi', state: 'gave-up' }),
    ];
    hearth.consoleLines = ['PANIC: crash mode'];
    hearth.alerts = { ...hearth.alerts, open: [alert], overall: 'problem' };
    await openApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Activity' }));
    await fireEvent.click(await screen.findByRole('button', { name: "Open Counter's console" }));

    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('button', { name: 'Apps' })).toHaveAttribute(
      'aria-current',
      'page',
    );
    const installed = screen.getByRole('list', { name: 'Installed apps' });
    const card = within(installed).getByRole('article', { name: 'Counter' });
    await expect.poll(() => document.activeElement).toBe(card);
    expect(await within(card).findByRole('log', { name: 'Console of Counter' })).toBeVisible();

    // Back to Apps later by the sidebar: the page starts at the top, the console closed.
    await fireEvent.click(within(nav).getByRole('button', { name: 'Activity' }));
    await fireEvent.click(within(nav).getByRole('button', { name: 'Apps' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Apps' })).toHaveFocus();
    expect(screen.queryByRole('log')).toBeNull();
  });
});

describe('errors', () => {
  it('shows the owner-readable message when settings cannot be read', async () => {
    hearth.fail('settings:get', new HearthError('STORAGE_FAILED'));
    render(App);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Hearth could not save its settings on this computer.',
    );
    // The app still opens (at the welcome), rather than crashing.
    expect(screen.getByRole('heading', { name: 'Welcome to Hearth' })).toBeVisible();
  });

  it('stays put and explains when the check cannot start', async () => {
    hearth.fail('checks:run', new HearthError('DISCONNECTED'));
    await openApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Activity' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Check this computer' }));

    expect(await screen.findByText(/lost its connection/)).toBeVisible();
    expect(screen.getByRole('heading', { name: 'Activity' })).toBeVisible();

    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss this message' }));
    expect(screen.queryByText(/lost its connection/)).not.toBeInTheDocument();
  });

  it('never shows internal details of an unexpected failure', async () => {
    hearth.handle('tasks:cancel', () => {
      throw new TypeError('x is undefined at /app/task-manager.ts:42');
    });
    hearth.tasks = [fakeTask()];
    await openApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Activity' }));
    await fireEvent.click(
      await screen.findByRole('button', { name: 'Cancel Check this computer' }),
    );

    expect(await screen.findByText(/Something went wrong inside Hearth/)).toBeVisible();
    expect(screen.queryByText(/task-manager/)).not.toBeInTheDocument();
  });
});

describe('appearance', () => {
  it('follows the system by default', async () => {
    await openApp();
    expect(screen.getByRole('radio', { name: 'System' })).toBeChecked();
    // jsdom has no OS preference, so "System" resolves to light.
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it('applies and saves the chosen theme', async () => {
    await openApp();
    await fireEvent.click(screen.getByRole('radio', { name: 'Dark' }));

    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(screen.getByRole('radio', { name: 'Dark' })).toBeChecked();
    expect(hearth.invokesOf('settings:update')).toEqual([{ theme: 'dark' }]);
  });

  it('reacts to settings changed elsewhere', async () => {
    await openApp();
    hearth.emit('settings:changed', {
      theme: 'dark',
      welcomeDone: true,
      allowUnprotectedKey: false,
      startAtLogin: false,
      closeToTrayNoticeShown: false,
    });
    await expect.poll(() => document.documentElement.dataset.theme).toBe('dark');
    expect(screen.getByRole('radio', { name: 'Dark' })).toBeChecked();
  });
});

describe('background care', () => {
  it('saves "Start Hearth when I log in", and shows it as the app reports it', async () => {
    hearth.handle('app:info', () => ({
      name: 'Hearth',
      version: '0.1.0',
      shell: 'electron',
      platform: 'linux',
    }));
    await openApp();
    const box = await screen.findByRole('checkbox', { name: 'Start Hearth when I log in' });
    expect(box).not.toBeChecked();
    await fireEvent.click(box);
    expect(hearth.invokesOf('settings:update')).toEqual([{ startAtLogin: true }]);
    // Main puts it back when the system refuses; the checkbox follows.
    hearth.emit('settings:changed', { ...hearth.settings, startAtLogin: false });
    await expect.poll(() => box).not.toBeChecked();
  });

  it('offers starting at login only in the desktop app, not in a browser', async () => {
    await openApp();
    await expect.poll(() => hearth.invokesOf('app:info').length).toBeGreaterThan(0);
    expect(screen.queryByRole('checkbox', { name: 'Start Hearth when I log in' })).toBeNull();
  });

  it('opens Hearth where main says, as a clicked notification asks', async () => {
    await openApp();
    expect(screen.getByRole('button', { name: 'Devices' })).toHaveAttribute('aria-current', 'page');
    hearth.emit('app:openAt', { view: 'activity' });
    await expect
      .poll(() => screen.getByRole('button', { name: 'Activity' }).getAttribute('aria-current'))
      .toBe('page');
    expect(screen.getByRole('heading', { name: 'Activity' })).toBeVisible();
  });
});

describe('announcements', () => {
  it('says politely when a task finishes', async () => {
    hearth.tasks = [fakeTask()];
    await openApp();
    const live = screen.getByRole('status');
    expect(live).toHaveAttribute('aria-live', 'polite');

    hearth.emit(
      'tasks:updated',
      fakeTask({ state: 'succeeded', summary: 'This computer is ready.', endedAt: Date.now() }),
    );
    await expect.poll(() => live.textContent).toContain('Check this computer finished.');
  });

  it('says when an installed app starts running', async () => {
    hearth.devices = [fakeDevice()];
    hearth.apps = [fakeInstalledApp({ state: 'starting', runningSince: null })];
    await openApp();
    const live = screen.getByRole('status');

    hearth.emit('apps:changed', [fakeInstalledApp({ state: 'running' })]);

    await expect.poll(() => live.textContent).toBe('Counter is running.');
  });
});
