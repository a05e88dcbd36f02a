import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../../../shared/errors';
import type { AppBackupStatus } from '../../../../shared/model';
import { BackupsState } from '../../state/backups.svelte';
import { DevicesState } from '../../state/devices.svelte';
import { NoticesState } from '../../state/notices.svelte';
import { TasksState } from '../../state/tasks.svelte';
import type { FakeHearth } from '../../test-support/fake-hearth';
import {
  fakeBackupFolder,
  fakeBackupPoint,
  fakeBackupStatus,
  fakeDevice,
  fakeRecoveryKit,
  fakeTask,
  installFakeHearth,
} from '../../test-support/fake-hearth';
import BackupsView from './BackupsView.svelte';

const livingRoom = fakeDevice({
  id: '11111111-1111-4111-8111-111111111111',
  name: 'Living-room Pi',
});
const kitchen = fakeDevice({ id: '22222222-2222-4222-8222-222222222222', name: 'Kitchen Pi' });
const goneDeviceId = '33333333-3333-4333-8333-333333333333';

/** Tuesday 1 December 2026, 14:30 on the test's clock (only Date is faked). */
const now = new Date(2026, 11, 1, 14, 30).getTime();
const at = (day: number, hours: number, minutes = 0) =>
  new Date(2026, 11, day, hours, minutes).getTime();
const clock = (time: number) =>
  new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(time);
const fullDate = (time: number) =>
  new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(time);

let hearth: FakeHearth;
let notices: NoticesState;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(now);
  hearth = installFakeHearth();
  notices = new NoticesState();
  hearth.devices = [livingRoom, kitchen];
});

afterEach(() => {
  vi.useRealTimers();
});

function counter(overrides: Partial<AppBackupStatus> = {}): AppBackupStatus {
  return fakeBackupStatus({
    deviceId: livingRoom.id,
    deviceName: 'Living-room Pi',
    lastBackupAt: at(1, 14, 2),
    lastVerifiedAt: at(1, 14, 30) - 3 * 24 * 60 * 60_000,
    nextRunAt: at(2, 3, 0),
    sizeBytes: 12.5 * 1024 ** 2,
    ...overrides,
  });
}

function setUp(kitConfirmed = true) {
  hearth.backupSetup = {
    repository: { path: fakeBackupFolder, kitConfirmed, createdAt: now - 86_400_000 },
    defaultPath: fakeBackupFolder,
  };
}

async function showBackups() {
  const tasks = new TasksState(window.hearth, notices);
  const devices = new DevicesState(window.hearth, notices);
  const backups = new BackupsState(window.hearth, tasks, notices);
  await Promise.all([tasks.start(), devices.start(), backups.start()]);
  render(BackupsView, { backups, devices, focusRequest: 1 });
  return { backups };
}

/** What a person reads: the text with its spacing as shown. */
function text(element: HTMLElement): string {
  return (element.textContent ?? '').replace(/\s+/g, ' ');
}

function card(name: string) {
  const list = screen.getByRole('list', { name: 'Backups of your apps' });
  return within(list).getByRole('article', { name });
}

describe('setting up backups', () => {
  it('explains, proposes the default folder, and leads through the kit to the list', async () => {
    hearth.backupStatuses = [counter()];
    await showBackups();
    expect(screen.getByRole('heading', { level: 1, name: 'Backups' })).toHaveFocus();
    const setup = screen.getByRole('region', { name: 'Set up backups' });
    expect(setup).toHaveTextContent('locked copy of each app');
    expect(within(setup).getByText(fakeBackupFolder)).toBeVisible();
    expect(screen.queryByRole('button', { name: 'Recovery kit' })).not.toBeInTheDocument();

    await fireEvent.click(within(setup).getByRole('button', { name: 'Set up backups' }));
    expect(hearth.invokesOf('backups:createRepository')).toEqual([{ path: fakeBackupFolder }]);

    // The kit comes right after, and says backups wait for it.
    const heading = await screen.findByRole('heading', { name: 'Your recovery kit' });
    expect(heading).toHaveFocus();
    const kit = screen.getByRole('region', { name: 'Your recovery kit' });
    expect(within(kit).getByText('tulip-orbit-7341-meadow-quartz-9025')).toBeVisible();
    expect(kit).toHaveTextContent('Backups have not started yet.');
    expect(kit).toHaveTextContent(fakeBackupFolder);
    expect(screen.queryByRole('list', { name: 'Backups of your apps' })).not.toBeInTheDocument();

    const confirm = within(kit).getByRole('button', { name: 'I have kept my recovery kit' });
    expect(confirm).toBeDisabled();
    await fireEvent.click(within(kit).getByRole('checkbox'));
    await fireEvent.click(confirm);
    expect(hearth.invokesOf('backups:confirmKit')).toHaveLength(1);

    await expect.poll(() => screen.queryByRole('heading', { name: 'Your apps' })).toHaveFocus();
    expect(screen.queryByText(/Backups have not started yet/)).not.toBeInTheDocument();
    expect(
      within(card('Counter')).getByRole('button', { name: 'Back up Counter now' }),
    ).toHaveAttribute('aria-disabled', 'false');
    expect(screen.getByRole('button', { name: 'Recovery kit' })).toBeVisible();
  });

  it('uses the folder chosen in the dialog', async () => {
    hearth.chosenFolder = '/media/owner/USB drive/Backups';
    await showBackups();
    await fireEvent.click(screen.getByRole('button', { name: /Choose another folder/ }));
    expect(await screen.findByText('/media/owner/USB drive/Backups')).toBeVisible();

    await fireEvent.click(screen.getByRole('button', { name: 'Set up backups' }));
    expect(hearth.invokesOf('backups:createRepository')).toEqual([
      { path: '/media/owner/USB drive/Backups' },
    ]);
  });

  it('offers a box for the path where there is no folder dialog (browser mode)', async () => {
    hearth.fail('backups:chooseFolder', new HearthError('NO_FILE_DIALOG'));
    await showBackups();
    expect(screen.queryByRole('textbox', { name: 'Where backups go' })).not.toBeInTheDocument();

    await fireEvent.click(screen.getByRole('button', { name: /Choose another folder/ }));

    const box = await screen.findByRole('textbox', { name: 'Where backups go' });
    expect(box).toHaveFocus();
    expect(box).toHaveValue(fakeBackupFolder);
    expect(box).toHaveAccessibleDescription(/cannot open a folder picker/);

    await fireEvent.input(box, { target: { value: 'Backups' } });
    expect(screen.getByText(/A full path starts with \//)).toBeVisible();
    expect(screen.getByRole('button', { name: 'Set up backups' })).toBeDisabled();

    await fireEvent.input(box, { target: { value: '/srv/hearth-backups' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Set up backups' }));
    expect(hearth.invokesOf('backups:createRepository')).toEqual([{ path: '/srv/hearth-backups' }]);
  });

  it('says in words why the backups could not be made there', async () => {
    hearth.fail('backups:createRepository', new HearthError('BACKUP_FOLDER_NOT_EMPTY'));
    await showBackups();
    await fireEvent.click(screen.getByRole('button', { name: 'Set up backups' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'That folder already holds other files. Choose an empty folder',
    );
    expect(screen.getByRole('region', { name: 'Set up backups' })).toBeVisible();
  });

  it('opens backups made before, with the password from the kit, and offers their apps', async () => {
    hearth.chosenFolder = '/media/owner/USB drive/Hearth Backups';
    hearth.backupPoints = [
      fakeBackupPoint({
        id: 'run-notes-0001',
        deviceId: goneDeviceId,
        appId: 'notes',
        appName: 'Notes',
        takenAt: at(1, 3),
      }),
      fakeBackupPoint({
        id: 'run-notes-0002',
        deviceId: goneDeviceId,
        appId: 'notes',
        appName: 'Notes',
        takenAt: at(1, 3) - 86_400_000,
      }),
    ];
    await showBackups();
    await fireEvent.click(
      screen.getByRole('button', { name: 'I already have backups (from a recovery kit)' }),
    );
    expect(screen.getByRole('heading', { name: 'Open your backups' })).toHaveFocus();
    const open = screen.getByRole('button', { name: 'Open backups' });
    expect(open).toBeDisabled();

    await fireEvent.click(screen.getByRole('button', { name: /Choose the folder/ }));
    await screen.findByText('/media/owner/USB drive/Hearth Backups');
    await fireEvent.input(
      screen.getByRole('textbox', { name: 'Password from your recovery kit' }),
      {
        target: { value: ' tulip-orbit-7341-meadow-quartz-9025 ' },
      },
    );
    await fireEvent.click(open);

    expect(hearth.invokesOf('backups:openRepository')).toEqual([
      {
        path: '/media/owner/USB drive/Hearth Backups',
        password: 'tulip-orbit-7341-meadow-quartz-9025',
      },
    ]);
    const others = await screen.findByRole('list', { name: 'Backups of apps no device has now' });
    const notes = within(others).getByRole('listitem');
    expect(notes).toHaveTextContent('Notes');
    expect(notes).toHaveTextContent('from a device Hearth no longer looks after');
    expect(notes).toHaveTextContent('2 backups');
    expect(notes).toHaveTextContent(`newest Today at ${clock(at(1, 3))}`);

    await fireEvent.click(
      within(notes).getByRole('button', { name: 'Restore Notes onto a device…' }),
    );
    const dialog = screen.getByRole('dialog', { name: 'Restore Notes' });
    await fireEvent.change(within(dialog).getByRole('combobox', { name: 'Restore onto' }), {
      target: { value: kitchen.id },
    });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Restore' }));

    expect(hearth.invokesOf('backups:restore')).toEqual([
      { deviceId: goneDeviceId, appId: 'notes', pointId: 'run-notes-0001', toDeviceId: kitchen.id },
    ]);
  });

  it('offers the copies another device keeps of an app whose device died, and restores from there', async () => {
    setUp();
    hearth.backupPoints = [
      fakeBackupPoint({
        id: 'f'.repeat(64),
        deviceId: goneDeviceId,
        appId: 'counter',
        appName: 'Counter',
        takenAt: at(1, 3),
        sizeBytes: 0,
        heldBy: kitchen.id,
      }),
    ];
    await showBackups();
    const others = await screen.findByRole('list', { name: 'Backups of apps no device has now' });
    const item = within(others).getByRole('listitem');
    expect(item).toHaveTextContent('kept on Kitchen Pi');
    expect(item).not.toHaveTextContent(/\d B\b/);

    await fireEvent.click(
      within(item).getByRole('button', { name: 'Restore Counter onto a device…' }),
    );
    const dialog = screen.getByRole('dialog', { name: 'Restore Counter' });
    const [choice] = await within(dialog).findAllByRole('radio');
    expect(choice?.closest('label')).toHaveTextContent(/kept on Kitchen Pi$/);
    await fireEvent.change(within(dialog).getByRole('combobox', { name: 'Restore onto' }), {
      target: { value: kitchen.id },
    });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Restore' }));
    expect(hearth.invokesOf('backups:restore')).toEqual([
      {
        deviceId: goneDeviceId,
        appId: 'counter',
        pointId: 'f'.repeat(64),
        toDeviceId: kitchen.id,
        heldBy: kitchen.id,
      },
    ]);
  });

  it('lists the apps of the backups it opened', async () => {
    hearth.chosenFolder = '/media/owner/Backups';
    await showBackups();
    hearth.backupStatuses = [counter()];
    await fireEvent.click(screen.getByRole('button', { name: /I already have backups/ }));
    await fireEvent.click(screen.getByRole('button', { name: /Choose the folder/ }));
    await screen.findByText('/media/owner/Backups');
    await fireEvent.input(screen.getByRole('textbox', { name: /Password/ }), {
      target: { value: 'tulip-orbit-7341-meadow-quartz-9025' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Open backups' }));

    expect(await screen.findByRole('article', { name: 'Counter' })).toBeVisible();
    expect(screen.getByText(/Backups on this computer are kept in/)).toHaveTextContent(
      '/media/owner/Backups',
    );
  });

  it('refuses a wrong password in the words of the kit', async () => {
    hearth.fail('backups:openRepository', new HearthError('BACKUP_WRONG_PASSWORD'));
    hearth.chosenFolder = '/media/owner/Backups';
    await showBackups();
    await fireEvent.click(screen.getByRole('button', { name: /I already have backups/ }));
    await fireEvent.click(screen.getByRole('button', { name: /Choose the folder/ }));
    await screen.findByText('/media/owner/Backups');
    await fireEvent.input(screen.getByRole('textbox', { name: /Password/ }), {
      target: { value: 'not-the-password' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Open backups' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'That password does not open these backups.',
    );
  });
});

describe('the recovery kit', () => {
  async function openKit(kitConfirmed = true) {
    setUp(kitConfirmed);
    await showBackups();
    await fireEvent.click(screen.getByRole('button', { name: 'Recovery kit' }));
    return screen.findByRole('region', { name: 'Your recovery kit' });
  }

  it('shows the QR code only as an image, never as markup', async () => {
    const hostile =
      '<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned = true</script>' +
      '<foreignObject><img src="x" onerror="window.pwned = true"></foreignObject></svg>';
    hearth.recoveryKit = fakeRecoveryKit({ qrSvg: hostile });
    const kit = await openKit();

    expect(kit.querySelector('script, foreignObject, [onerror]')).toBeNull();
    const qr = within(kit).getByRole('img', { name: /QR code/ });
    expect(qr.tagName).toBe('IMG');
    const src = qr.getAttribute('src')!;
    expect(src.startsWith('data:image/svg+xml;base64,')).toBe(true);
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(src.split(',')[1]!), (c) => c.charCodeAt(0)),
    );
    expect(decoded).toBe(hostile);
    expect((window as unknown as { pwned?: boolean }).pwned).toBeUndefined();
  });

  it('saves it as a file and says where, and prints it', async () => {
    const print = vi.spyOn(window, 'print').mockImplementation(() => {});
    const kit = await openKit();

    await fireEvent.click(within(kit).getByRole('button', { name: 'Save as a file…' }));
    expect(hearth.invokesOf('backups:saveKit')).toHaveLength(1);
    expect(await within(kit).findByText(/Saved to/)).toHaveTextContent(
      'Saved to /home/owner/Documents/Hearth recovery kit.html.',
    );

    await fireEvent.click(within(kit).getByRole('button', { name: 'Print' }));
    expect(print).toHaveBeenCalledOnce();
  });

  it('goes back to the list, and the Recovery kit button, once kept', async () => {
    hearth.backupStatuses = [counter()];
    const kit = await openKit(true);
    expect(kit).not.toHaveTextContent('Backups have not started yet.');
    expect(within(kit).queryByRole('checkbox')).not.toBeInTheDocument();

    await fireEvent.click(within(kit).getByRole('button', { name: 'Done' }));

    await expect.poll(() => screen.queryByRole('button', { name: 'Recovery kit' })).toHaveFocus();
    expect(card('Counter')).toBeVisible();
  });

  it('says backups have not started until the kit is kept, and why', async () => {
    setUp(false);
    hearth.backupStatuses = [
      counter({ lastBackupAt: null, lastVerifiedAt: null, sizeBytes: null }),
    ];
    await showBackups();

    expect(screen.getByText(/Backups have not started yet/)).toHaveTextContent(
      'nobody could open your backups if this computer were lost',
    );
    const backUp = within(card('Counter')).getByRole('button', { name: 'Back up Counter now' });
    expect(backUp).toHaveAttribute('aria-disabled', 'true');
    expect(backUp).toHaveAccessibleDescription(/Backups have not started yet/);
    await fireEvent.click(backUp);
    expect(hearth.invokesOf('backups:run')).toEqual([]);

    await fireEvent.click(screen.getByRole('button', { name: 'Show my recovery kit' }));
    const kit = await screen.findByRole('region', { name: 'Your recovery kit' });
    expect(within(kit).getByRole('checkbox')).not.toBeChecked();
  });
});

describe('the apps and their backups', () => {
  it('says when each was backed up and checked, its size, the next run and where it goes', async () => {
    setUp();
    hearth.backupStatuses = [
      counter(),
      counter({
        appId: 'notes',
        appName: 'Notes',
        destination: { kind: 'device', deviceId: kitchen.id, deviceName: 'Kitchen Pi' },
        sizeBytes: 3.2 * 1024 ** 3,
        lastBackupAt: at(1, 14, 30) - 3 * 24 * 60 * 60_000,
        lastVerifiedAt: null,
        schedule: { enabled: false, everyHours: 24 },
        nextRunAt: null,
      }),
    ];
    await showBackups();

    const counterCard = card('Counter');
    expect(counterCard).toHaveTextContent('on Living-room Pi');
    expect(counterCard).toHaveTextContent(`Last backup Today at ${clock(at(1, 14, 2))}`);
    expect(counterCard).toHaveTextContent('Last checked 3 days ago');
    expect(counterCard).toHaveTextContent('Size 12.5 MiB');
    expect(counterCard).toHaveTextContent(`Next backup Tomorrow at ${clock(at(2, 3))}`);
    expect(counterCard).toHaveTextContent('Goes to This computer');

    const notesCard = card('Notes');
    expect(notesCard).toHaveTextContent('Last backup 3 days ago');
    expect(notesCard).toHaveTextContent('Last checked Not yet');
    expect(notesCard).toHaveTextContent('Size 3.2 GiB');
    expect(notesCard).toHaveTextContent('Next backup Off');
    expect(notesCard).toHaveTextContent('Goes to Kitchen Pi');
  });

  it('warns in words when a backup is overdue or failed', async () => {
    setUp();
    hearth.backupStatuses = [
      counter({ overdue: true, lastBackupAt: at(1, 14, 30) - 3 * 24 * 60 * 60_000 }),
      counter({
        appId: 'notes',
        appName: 'Notes',
        lastError:
          'The disk that holds your backups is full. Free some space on it, or choose a bigger drive, and try again.',
      }),
    ];
    await showBackups();

    expect(card('Counter')).toHaveTextContent(
      "Needs attention: Counter's backups are overdue: the last one was 3 days ago.",
    );
    expect(card('Notes')).toHaveTextContent(
      'Needs attention: The disk that holds your backups is full.',
    );
  });

  it('backs up now, shows how far it is and how long is left, and cancels', async () => {
    setUp();
    hearth.backupStatuses = [counter()];
    await showBackups();
    const counterCard = card('Counter');

    await fireEvent.click(within(counterCard).getByRole('button', { name: 'Back up Counter now' }));
    expect(hearth.invokesOf('backups:run')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);

    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'backup-counter',
        kind: 'backups.run',
        title: 'Back up Counter',
        progress: { done: 1024 ** 3, total: 4 * 1024 ** 3, unit: 'bytes' },
        detail: 'Copying the data volume',
        steps: [],
        startedAt: now - 60_000,
      }),
    );

    const bar = await within(counterCard).findByRole('progressbar', { name: 'Back up Counter' });
    expect(bar).toHaveAttribute('aria-valuenow', '25');
    expect(counterCard).toHaveTextContent('1 GiB of 4 GiB');
    expect(counterCard).toHaveTextContent('about 3 minutes left');
    expect(counterCard).toHaveTextContent('Copying the data volume');
    expect(
      within(counterCard).getByRole('button', { name: 'Back up Counter now' }),
    ).toHaveAttribute('aria-disabled', 'true');

    await fireEvent.click(
      within(counterCard).getByRole('button', { name: 'Cancel Back up Counter' }),
    );
    expect(hearth.invokesOf('tasks:cancel')).toEqual([{ id: 'backup-counter' }]);

    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'backup-counter',
        title: 'Back up Counter',
        state: 'cancelled',
        endedAt: now,
        steps: [],
      }),
    );
    await expect.poll(() => within(counterCard).queryByRole('progressbar')).toBeNull();
    expect(counterCard).toHaveTextContent('Back up Counter: Cancelled.');
    expect(
      within(counterCard).getByRole('button', { name: 'Back up Counter now' }),
    ).toHaveAttribute('aria-disabled', 'false');
  });

  it('follows a backup the device started on its own timer', async () => {
    setUp();
    hearth.tasks = [
      fakeTask({ id: 'backup-timer-1', title: 'Back up Counter', progress: null, steps: [] }),
    ];
    hearth.backupStatuses = [counter()];
    await showBackups();

    hearth.emit('backups:changed', [counter({ runningTaskId: 'backup-timer-1' })]);

    const bar = await within(card('Counter')).findByRole('progressbar', {
      name: 'Back up Counter',
    });
    expect(bar).not.toHaveAttribute('aria-valuenow');
  });

  it('shows why a backup could not start', async () => {
    setUp();
    hearth.backupStatuses = [counter()];
    hearth.fail('backups:run', new HearthError('BACKUP_BUSY'));
    await showBackups();

    await fireEvent.click(screen.getByRole('button', { name: 'Back up Counter now' }));

    expect(await within(card('Counter')).findByRole('alert')).toHaveTextContent(
      'This app is being backed up or updated right now.',
    );
  });

  it('checks that it can be restored, and shows how the last check went', async () => {
    setUp();
    hearth.backupStatuses = [
      counter({
        lastDrill: { at: at(1, 4, 10), ok: false, message: 'It did not answer in time.' },
      }),
    ];
    await showBackups();
    const counterCard = card('Counter');
    expect(counterCard).toHaveTextContent(
      `Restore check today at ${clock(at(1, 4, 10))} failed. It did not answer in time.`,
    );

    await fireEvent.click(
      within(counterCard).getByRole('button', { name: 'Check Counter can be restored' }),
    );
    expect(hearth.invokesOf('backups:drill')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);

    hearth.emit('backups:changed', [
      counter({ lastDrill: { at: at(1, 14, 29), ok: true, message: null } }),
    ]);
    await expect
      .poll(() => text(counterCard))
      .toContain(
        `Restore check today at ${clock(at(1, 14, 29))}: Counter started from its backup and worked.`,
      );
  });

  it('changes how often it backs up', async () => {
    setUp();
    hearth.backupStatuses = [counter()];
    await showBackups();
    const often = within(card('Counter')).getByRole('combobox', { name: 'How often' });
    expect(often).toHaveValue('24');
    expect(
      within(often)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['Off', 'Every 6 hours', 'Every 12 hours', 'Every day', 'Every week']);

    await fireEvent.change(often, { target: { value: '168' } });
    expect(hearth.invokesOf('backups:setSchedule')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter', schedule: { enabled: true, everyHours: 168 } },
    ]);
    await expect.poll(() => text(card('Counter'))).toContain('Every week');

    await fireEvent.change(within(card('Counter')).getByRole('combobox', { name: 'How often' }), {
      target: { value: 'off' },
    });
    expect(hearth.invokesOf('backups:setSchedule')[1]).toEqual({
      deviceId: livingRoom.id,
      appId: 'counter',
      schedule: { enabled: false, everyHours: 168 },
    });
    await expect.poll(() => text(card('Counter'))).toContain('Next backup Off');
  });

  it('keeps the backups on this computer or on another device, never on its own', async () => {
    setUp();
    hearth.backupStatuses = [counter()];
    await showBackups();
    const where = within(card('Counter')).getByRole('combobox', { name: 'Keep backups on' });
    expect(
      within(where)
        .getAllByRole('option')
        .map((o) => o.textContent?.trim()),
    ).toEqual(['This computer', 'Kitchen Pi']);

    await fireEvent.change(where, { target: { value: kitchen.id } });

    expect(hearth.invokesOf('backups:setDestination')).toEqual([
      {
        deviceId: livingRoom.id,
        appId: 'counter',
        destination: { kind: 'device', deviceId: kitchen.id },
      },
    ]);
    await expect.poll(() => text(card('Counter'))).toContain('Goes to Kitchen Pi');
  });

  it('asks before it stops keeping copies on another device, and changes nothing when told no', async () => {
    setUp();
    hearth.backupStatuses = [
      counter({ destination: { kind: 'device', deviceId: kitchen.id, deviceName: 'Kitchen Pi' } }),
    ];
    await showBackups();
    const where = within(card('Counter')).getByRole('combobox', { name: 'Keep backups on' });
    await fireEvent.change(where, { target: { value: 'computer' } });
    const ask = within(card('Counter')).getByRole('group', {
      name: /^Stop keeping copies of Counter on Kitchen Pi\?/,
    });
    expect(ask).toHaveTextContent('The copies already there stay, and you can still restore them.');
    expect(hearth.invokesOf('backups:setDestination')).toEqual([]);

    await fireEvent.click(within(ask).getByRole('button', { name: 'Keep them there' }));
    expect(within(card('Counter')).queryByRole('group')).not.toBeInTheDocument();
    expect(where).toHaveValue(kitchen.id);
    expect(hearth.invokesOf('backups:setDestination')).toEqual([]);

    await fireEvent.change(where, { target: { value: 'computer' } });
    await fireEvent.click(
      within(card('Counter')).getByRole('button', { name: 'Stop keeping copies there' }),
    );
    expect(hearth.invokesOf('backups:setDestination')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter', destination: { kind: 'computer' } },
    ]);
  });

  it('keeps up with backups:changed', async () => {
    setUp();
    await showBackups();
    expect(screen.getByText(/No apps to back up yet/)).toBeVisible();

    hearth.emit('backups:changed', [counter()]);

    expect(await screen.findByRole('article', { name: 'Counter' })).toBeVisible();
  });
});

describe('restoring', () => {
  const points = [
    fakeBackupPoint({
      id: 'run-older-001',
      deviceId: livingRoom.id,
      takenAt: at(1, 3) - 20 * 86_400_000,
      appVersion: '0.9.0',
      sizeBytes: 10 * 1024 ** 2,
    }),
    fakeBackupPoint({
      id: 'run-newest-01',
      deviceId: livingRoom.id,
      takenAt: at(1, 3),
      appVersion: '1.0.0',
      sizeBytes: 12.5 * 1024 ** 2,
    }),
    fakeBackupPoint({
      id: 'run-middle-01',
      deviceId: livingRoom.id,
      takenAt: at(1, 3) - 86_400_000,
      appVersion: '1.0.0',
      sizeBytes: 12 * 1024 ** 2,
    }),
  ];

  async function openRestore() {
    setUp();
    hearth.backupStatuses = [counter()];
    hearth.backupPoints = points;
    await showBackups();
    const button = within(card('Counter')).getByRole('button', { name: 'Restore Counter…' });
    // As a real click or keypress would, the button has the keyboard before it opens the dialog.
    button.focus();
    await fireEvent.click(button);
    return screen.getByRole('dialog', { name: 'Restore Counter' });
  }

  it('lists the points newest first, as dates a person reads, and warns what happens', async () => {
    const dialog = await openRestore();
    expect(within(dialog).getByRole('heading', { name: 'Restore Counter' })).toHaveFocus();
    expect(dialog).toHaveAccessibleDescription(
      "Counter's data goes back to how it was then, and Counter restarts. What it saved after that backup is replaced.",
    );
    expect(hearth.invokesOf('backups:points')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);

    const choices = await within(dialog).findAllByRole('radio');
    expect(
      choices.map((c) => c.closest('label')?.textContent?.replace(/\s+/g, ' ').trim()),
    ).toEqual([
      `${fullDate(at(1, 3))} today at ${clock(at(1, 3))} · version 1.0.0 · 12.5 MiB · on this computer`,
      `${fullDate(at(1, 3) - 86_400_000)} yesterday at ${clock(at(1, 3))} · version 1.0.0 · 12 MiB · on this computer`,
      `${fullDate(points[0]!.takenAt)} on ${new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long' }).format(points[0]!.takenAt)} · version 0.9.0 · 10 MiB · on this computer`,
    ]);
    expect(choices[0]).toBeChecked();

    const device = within(dialog).getByRole('combobox', { name: 'Restore onto' });
    expect(device).toHaveValue(livingRoom.id);
    expect(
      within(device)
        .getAllByRole('option')
        .map((o) => o.textContent?.trim()),
    ).toEqual(['Living-room Pi (where it is now)', 'Kitchen Pi']);
    expect(device).toHaveAccessibleDescription(/If Living-room Pi broke or is gone/);
  });

  it('sends the chosen point and device, then follows the restore to its result', async () => {
    const dialog = await openRestore();
    const choices = await within(dialog).findAllByRole('radio');
    await fireEvent.click(choices[1]!);
    await fireEvent.change(within(dialog).getByRole('combobox', { name: 'Restore onto' }), {
      target: { value: kitchen.id },
    });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Restore' }));

    expect(hearth.invokesOf('backups:restore')).toEqual([
      {
        deviceId: livingRoom.id,
        appId: 'counter',
        pointId: 'run-middle-01',
        toDeviceId: kitchen.id,
      },
    ]);

    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'restore-counter',
        title: 'Restore Counter onto Kitchen Pi',
        progress: { done: 6 * 1024 ** 2, total: 12 * 1024 ** 2, unit: 'bytes' },
        detail: 'Sending the data to Kitchen Pi',
        steps: [],
      }),
    );
    const bar = await within(dialog).findByRole('progressbar', {
      name: 'Restore Counter onto Kitchen Pi',
    });
    expect(bar).toHaveAttribute('aria-valuenow', '50');
    expect(dialog).toHaveTextContent('6 MiB of 12 MiB');

    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'restore-counter',
        title: 'Restore Counter onto Kitchen Pi',
        state: 'succeeded',
        summary: null,
        endedAt: now,
        steps: [],
      }),
    );
    await expect
      .poll(() => text(dialog))
      .toContain(`Counter is back as it was yesterday at ${clock(at(1, 3))}.`);

    await fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('says why the restore failed', async () => {
    const dialog = await openRestore();
    await within(dialog).findAllByRole('radio');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Restore' }));
    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'restore-counter',
        title: 'Restore Counter',
        state: 'failed',
        endedAt: now,
        steps: [],
        error: {
          code: 'RESTORE_NOT_HEALTHY',
          message:
            'The app did not start with the restored data, so Hearth put its own data back and started it again.',
        },
      }),
    );
    await expect
      .poll(() => text(dialog))
      .toContain('The app did not start with the restored data, so Hearth put its own data back');
  });

  it('changes nothing on Cancel and gives the keyboard back', async () => {
    const dialog = await openRestore();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));

    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(hearth.invokesOf('backups:restore')).toEqual([]);
    await expect.poll(() => screen.getByRole('button', { name: 'Restore Counter…' })).toHaveFocus();
  });

  it('says so when the points cannot be read', async () => {
    hearth.fail('backups:points', new HearthError('BACKUP_NO_REPOSITORY'));
    const dialog = await openRestore();
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'Hearth found no backups in that folder.',
    );
    expect(within(dialog).getByRole('button', { name: 'Restore' })).toBeDisabled();
  });
});
