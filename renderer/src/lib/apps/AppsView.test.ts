import { fireEvent, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../../../shared/errors';
import type { AlertTarget, InstalledApp } from '../../../../shared/model';
import { NoticesState } from '../../state/notices.svelte';
import { showAppsView } from '../../test-support/apps-view';
import type { FakeHearth } from '../../test-support/fake-hearth';
import {
  fakeCatalogApp,
  fakeDevice,
  fakeInstalledApp,
  fakeTask,
  installFakeHearth,
} from '../../test-support/fake-hearth';

const livingRoom = fakeDevice({
  id: '11111111-1111-4111-8111-111111111111',
  name: 'Living-room Pi',
});
const study = fakeDevice({ id: '22222222-2222-4222-8222-222222222222', name: 'Study PC' });

let hearth: FakeHearth;
let notices: NoticesState;

beforeEach(() => {
  hearth = installFakeHearth();
  notices = new NoticesState();
  hearth.devices = [livingRoom];
  hearth.catalog = [fakeCatalogApp()];
});

function showApps(opening: AlertTarget | null = null) {
  return showAppsView(notices, { opening });
}

function counter(overrides: Partial<InstalledApp> = {}): InstalledApp {
  return fakeInstalledApp({ deviceId: livingRoom.id, deviceName: 'Living-room Pi', ...overrides });
}

function installedCard(name: string) {
  const list = screen.getByRole('list', { name: 'Installed apps' });
  return within(list).getByRole('article', { name });
}

function catalogCard(name: string) {
  const list = screen.getByRole('list', { name: 'Available apps' });
  return within(list).getByRole('article', { name });
}

describe('installed apps', () => {
  it('says how each app is doing, where it runs and where to open it', async () => {
    hearth.apps = [
      counter({
        links: [{ name: 'Web', url: 'http://living-room-pi.local:8080/' }],
      }),
    ];
    await showApps();
    expect(screen.getByRole('heading', { level: 1, name: 'Apps' })).toHaveFocus();
    expect(screen.getByRole('heading', { level: 2, name: 'On your devices' })).toBeVisible();

    const card = installedCard('Counter');
    expect(card).toHaveTextContent('on Living-room Pi');
    expect(within(card).getByText('Running')).toBeVisible();
    expect(card).toHaveTextContent('running for 5 minutes');
    expect(card).toHaveTextContent('uses 12 MB of 32 MB');

    const link = within(card).getByRole('link', { name: 'Open Counter' });
    expect(link).toHaveAttribute('href', 'http://living-room-pi.local:8080/');
    expect(link).toHaveAttribute('target', '_blank');
    expect(link).toHaveAttribute('rel', 'noreferrer');
    expect(card).toHaveTextContent('at http://living-room-pi.local:8080/');
  });

  it('names each link when an app has several, and drops anything but web addresses', async () => {
    hearth.apps = [
      counter({
        links: [
          { name: 'Calendar', url: 'http://pi.local:8080/' },
          { name: 'Admin', url: 'https://pi.local:8443/admin' },
          { name: 'Sneaky', url: 'javascript:alert(1)' },
        ],
      }),
    ];
    await showApps();
    const card = installedCard('Counter');
    expect(within(card).getByRole('link', { name: 'Open Counter (Calendar)' })).toBeVisible();
    expect(within(card).getByRole('link', { name: 'Open Counter (Admin)' })).toBeVisible();
    expect(within(card).getAllByRole('link')).toHaveLength(2);
  });

  it.each([
    [{ state: 'starting' }, 'Starting…'],
    [{ state: 'stopped', runningSince: null }, 'Stopped'],
    [{ state: 'crashed' }, 'Crashed'],
    [{ state: 'restarting', restarts: 3 }, 'Restarting (3 restarts)'],
    [{ state: 'restarting', restarts: 1 }, 'Restarting (1 restart)'],
    [{ state: 'gave-up' }, 'Gave up'],
    [{ state: 'offline' }, 'Device offline'],
    [{ state: 'installing' }, 'Installing…'],
  ] as const)('says %o in words', async (overrides, words) => {
    hearth.apps = [counter(overrides)];
    await showApps();
    const card = installedCard('Counter');
    expect(within(card).getByText(words)).toBeVisible();
    expect(card).not.toHaveTextContent('running for');
  });

  it('explains why it gave up, and offers Start', async () => {
    const message =
      'Counter kept stopping, so Hearth stopped restarting it. Restart it to try again.';
    hearth.apps = [counter({ state: 'gave-up', restarts: 5, runningSince: null, message })];
    await showApps();
    const card = installedCard('Counter');
    expect(within(card).getByText(message)).toBeVisible();
    expect(within(card).getByRole('button', { name: 'Start Counter' })).toBeEnabled();
    expect(within(card).queryByRole('button', { name: 'Stop Counter' })).not.toBeInTheDocument();
  });

  it('stops a running app and starts a stopped one, on the right device', async () => {
    hearth.apps = [counter(), counter({ appId: 'notes', name: 'Notes', state: 'stopped' })];
    await showApps();

    await fireEvent.click(screen.getByRole('button', { name: 'Stop Counter' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Start Notes' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Restart Counter' }));

    expect(hearth.invokesOf('apps:stop')).toEqual([{ deviceId: livingRoom.id, appId: 'counter' }]);
    expect(hearth.invokesOf('apps:start')).toEqual([{ deviceId: livingRoom.id, appId: 'notes' }]);
    expect(hearth.invokesOf('apps:restart')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);
  });

  it('follows apps:changed and announces what changed', async () => {
    hearth.apps = [counter({ state: 'stopped', runningSince: null })];
    const { apps } = await showApps();

    hearth.emit('apps:changed', [counter({ state: 'running' })]);

    await expect.poll(() => within(installedCard('Counter')).queryByText('Running')).toBeVisible();
    expect(apps.announcement).toBe('Counter is running.');
  });

  it('shows what changed in one app while the others stay as they were', async () => {
    const visits = counter({ appId: 'visits', name: 'Visit counter' });
    hearth.apps = [counter(), visits];
    await showApps();

    // Each event is the whole list, anew: Counter is the same, Visit counter uses more memory.
    hearth.emit('apps:changed', [counter(), { ...visits, memoryBytes: 20 * 1024 ** 2 }]);

    await expect
      .poll(() => installedCard('Visit counter').textContent)
      .toContain('uses 20 MB of 32 MB');
    expect(installedCard('Counter')).toHaveTextContent('uses 12 MB of 32 MB');
    expect(within(installedCard('Counter')).getByText('Running')).toBeVisible();
  });

  it('tells the owner when a command fails', async () => {
    hearth.apps = [counter()];
    hearth.fail('apps:stop', new HearthError('DEVICE_UNREACHABLE'));
    await showApps();

    await fireEvent.click(screen.getByRole('button', { name: 'Stop Counter' }));

    await expect.poll(() => notices.error).toMatch(/could not reach the device/);
  });

  it('says so when nothing is installed', async () => {
    await showApps();
    const section = screen.getByRole('region', { name: 'On your devices' });
    expect(within(section).getByText('Nothing installed yet.')).toBeVisible();
  });

  it('changes the memory from the More disclosure', async () => {
    hearth.apps = [counter()];
    await showApps();
    const card = installedCard('Counter');
    const more = within(card).getByRole('button', { name: 'More for Counter' });
    expect(more).toHaveAttribute('aria-expanded', 'false');

    await fireEvent.click(more);
    expect(more).toHaveAttribute('aria-expanded', 'true');
    const input = within(card).getByRole('spinbutton', { name: 'Memory for Counter (MB)' });
    expect(input).toHaveValue(32);
    await fireEvent.input(input, { target: { value: '64' } });
    await fireEvent.click(within(card).getByRole('button', { name: 'Save' }));

    expect(hearth.invokesOf('apps:setMemory')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter', memoryMiB: 64 },
    ]);
    await expect.poll(() => within(card).queryByText('Saved.')).toBeVisible();
  });

  it('refuses a memory amount the device would not take', async () => {
    hearth.apps = [counter()];
    await showApps();
    const card = installedCard('Counter');
    await fireEvent.click(within(card).getByRole('button', { name: 'More for Counter' }));
    const input = within(card).getByRole('spinbutton', { name: 'Memory for Counter (MB)' });

    await fireEvent.input(input, { target: { value: '2' } });

    expect(within(card).getByRole('button', { name: 'Save' })).toBeDisabled();
    expect(within(card).getByText('Choose a whole number from 8 to 16384.')).toBeVisible();
  });
});

describe('removing an app', () => {
  async function openRemove() {
    hearth.apps = [counter()];
    await showApps();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove Counter' }));
    return screen.getByRole('dialog', { name: 'Remove Counter?' });
  }

  it('keeps the data unless the name is typed', async () => {
    const dialog = await openRemove();
    expect(dialog).toHaveTextContent('Its data stays on the device');
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();

    await fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));

    expect(hearth.invokesOf('apps:remove')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);
    await expect.poll(() => screen.queryByRole('dialog')).toBeNull();
  });

  it('does not delete data for a name that is only nearly right', async () => {
    const dialog = await openRemove();
    const box = within(dialog).getByRole('textbox', {
      name: 'To delete its data too, type Counter',
    });

    await fireEvent.input(box, { target: { value: 'counter' } });

    expect(within(dialog).getByRole('button', { name: 'Remove' })).toBeVisible();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
    expect(hearth.invokesOf('apps:remove')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);
  });

  it('deletes the data too when the exact name is typed, and says so first', async () => {
    const dialog = await openRemove();
    const box = within(dialog).getByRole('textbox', {
      name: 'To delete its data too, type Counter',
    });

    await fireEvent.input(box, { target: { value: 'Counter' } });

    const button = within(dialog).getByRole('button', { name: 'Remove and delete data' });
    await fireEvent.click(button);
    expect(hearth.invokesOf('apps:remove')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter', confirmDeleteData: 'Counter' },
    ]);
  });

  it('changes nothing on Cancel', async () => {
    const dialog = await openRemove();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));

    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(hearth.invokesOf('apps:remove')).toEqual([]);
    expect(screen.getByRole('button', { name: 'Remove Counter' })).toHaveFocus();
  });
});

describe('console', () => {
  it("shows the recent lines, then this app's new lines only", async () => {
    hearth.apps = [counter(), counter({ appId: 'notes', name: 'Notes' })];
    hearth.consoleLines = ['Booting…', 'READY'];
    await showApps();
    const toggle = screen.getByRole('button', { name: 'Console of Counter' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');

    await fireEvent.click(toggle);

    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect(hearth.invokesOf('apps:console')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);
    const log = await screen.findByRole('log', { name: 'Console of Counter' });
    await expect.poll(() => log.textContent).toBe('Booting…\nREADY');
    expect(log.tagName).toBe('PRE');

    hearth.emit('apps:console', {
      deviceId: livingRoom.id,
      appId: 'counter',
      lines: ['boot count: 2'],
    });
    hearth.emit('apps:console', { deviceId: livingRoom.id, appId: 'notes', lines: ['not mine'] });
    hearth.emit('apps:console', { deviceId: study.id, appId: 'counter', lines: ['elsewhere'] });

    await expect.poll(() => log.textContent).toBe('Booting…\nREADY\nboot count: 2');

    await fireEvent.click(toggle);
    expect(screen.queryByRole('log')).not.toBeInTheDocument();
  });

  it('keeps only the latest 2000 lines', async () => {
    hearth.apps = [counter()];
    hearth.consoleLines = Array.from({ length: 1990 }, (_, i) => `line ${i}`);
    await showApps();
    await fireEvent.click(screen.getByRole('button', { name: 'Console of Counter' }));
    const log = await screen.findByRole('log', { name: 'Console of Counter' });
    await expect.poll(() => log.textContent?.startsWith('line 0\n')).toBe(true);

    hearth.emit('apps:console', {
      deviceId: livingRoom.id,
      appId: 'counter',
      lines: Array.from({ length: 20 }, (_, i) => `new ${i}`),
    });

    await expect.poll(() => log.textContent?.split('\n').at(-1)).toBe('new 19');
    const lines = log.textContent.split('\n');
    expect(lines).toHaveLength(2000);
    expect(lines[0]).toBe('line 10');
  });
});

describe('opened from an alert', () => {
  const crasher = () => counter({ appId: 'crasher', name: 'Crasher', state: 'gave-up' });
  const crasherOnLivingRoom: AlertTarget = {
    view: 'apps',
    deviceId: livingRoom.id,
    appId: 'crasher',
    show: 'console',
  };

  it("takes the keyboard to the app's card with its console open, and says it did", async () => {
    hearth.apps = [counter(), crasher()];
    hearth.consoleLines = ['PANIC: crash mode'];
    const { onOpened } = await showApps(crasherOnLivingRoom);

    const card = installedCard('Crasher');
    await expect.poll(() => document.activeElement).toBe(card);
    const log = within(card).getByRole('log', { name: 'Console of Crasher' });
    await expect.poll(() => log.textContent).toBe('PANIC: crash mode');
    expect(within(card).getByRole('button', { name: 'Console of Crasher' })).toHaveAttribute(
      'aria-expanded',
      'true',
    );
    expect(hearth.invokesOf('apps:console')).toEqual([
      { deviceId: livingRoom.id, appId: 'crasher' },
    ]);
    expect(screen.queryByRole('log', { name: 'Console of Counter' })).toBeNull();
    expect(onOpened).toHaveBeenCalledTimes(1);
  });

  it('opens no console when the alert does not ask for it', async () => {
    hearth.apps = [counter(), crasher()];
    await showApps({ view: 'apps', deviceId: livingRoom.id, appId: 'crasher' });
    await expect.poll(() => document.activeElement).toBe(installedCard('Crasher'));
    expect(screen.queryByRole('log')).toBeNull();
  });

  it('finds the app on the device the alert names, not a copy elsewhere', async () => {
    hearth.devices = [livingRoom, study];
    hearth.apps = [crasher(), { ...crasher(), deviceId: study.id, deviceName: 'Study PC' }];
    await showApps({ ...crasherOnLivingRoom, deviceId: study.id });
    const [, onStudy] = within(screen.getByRole('list', { name: 'Installed apps' })).getAllByRole(
      'article',
      { name: 'Crasher' },
    );
    await expect.poll(() => document.activeElement).toBe(onStudy);
    expect(onStudy).toHaveTextContent('on Study PC');
    expect(hearth.invokesOf('apps:console')).toEqual([{ deviceId: study.id, appId: 'crasher' }]);
  });

  it('stays at the top when the app is no longer installed', async () => {
    hearth.apps = [counter()];
    const { onOpened } = await showApps(crasherOnLivingRoom);
    await expect.poll(() => onOpened.mock.calls.length).toBe(1);
    expect(screen.getByRole('heading', { level: 1, name: 'Apps' })).toHaveFocus();
    expect(screen.queryByRole('log')).toBeNull();
  });
});

describe('available apps', () => {
  it('shows the catalog with icon, summary and details', async () => {
    await showApps();
    const card = catalogCard('Counter');
    expect(card).toHaveTextContent('Counts how often it has started.');

    const details = within(card).getByRole('button', { name: 'Show details of Counter' });
    expect(details).toHaveAttribute('aria-expanded', 'false');
    expect(within(card).getByText(/A tiny app that counts/)).not.toBeVisible();
    await fireEvent.click(details);
    expect(details).toHaveAttribute('aria-expanded', 'true');
    expect(within(card).getByText(/A tiny app that counts/)).toBeVisible();
  });

  it('says in the details what changed in the newest build, one paragraph each', async () => {
    hearth.catalog = [
      fakeCatalogApp({
        changes:
          'Built by builds.robur.coop on 2026-11-27.\n\nThe build before it made a different image.',
      }),
    ];
    await showApps();
    const card = catalogCard('Counter');
    await fireEvent.click(within(card).getByRole('button', { name: 'Show details of Counter' }));
    expect(within(card).getByRole('heading', { name: 'What changed' })).toBeVisible();
    expect(within(card).getByText('Built by builds.robur.coop on 2026-11-27.')).toBeVisible();
    expect(within(card).getByText('The build before it made a different image.')).toBeVisible();
  });

  it('shows no "What changed" when the catalog says nothing', async () => {
    await showApps();
    const card = catalogCard('Counter');
    await fireEvent.click(within(card).getByRole('button', { name: 'Show details of Counter' }));
    expect(within(card).queryByRole('heading', { name: 'What changed' })).toBeNull();
  });

  it('shows an icon only as an image, never as markup', async () => {
    const hostile =
      '<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned = true</script>' +
      '<foreignObject><img src="x" onerror="window.pwned = true"></foreignObject></svg>';
    hearth.catalog = [fakeCatalogApp({ icon: hostile })];
    const { container } = await showAppsView(notices);
    const card = within(container).getByRole('article', { name: 'Counter' });

    expect(card.querySelector('script')).toBeNull();
    expect(card.querySelector('svg foreignObject, [onerror]')).toBeNull();
    const img = card.querySelector('img')!;
    expect(img).toHaveAttribute('alt', '');
    const src = img.getAttribute('src')!;
    expect(src.startsWith('data:image/svg+xml;base64,')).toBe(true);
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(src.split(',')[1]!), (c) => c.charCodeAt(0)),
    );
    expect(decoded).toBe(hostile);
    expect((window as unknown as { pwned?: boolean }).pwned).toBeUndefined();
  });

  it('installs on the only device and follows the install task right there', async () => {
    const { apps } = await showApps();
    const card = catalogCard('Counter');
    expect(within(card).queryByRole('combobox', { name: 'Device' })).not.toBeInTheDocument();
    expect(card).toHaveTextContent('on Living-room Pi');

    await fireEvent.click(within(card).getByRole('button', { name: 'Install Counter' }));
    expect(hearth.invokesOf('apps:install')).toEqual([
      { deviceId: livingRoom.id, appId: 'counter' },
    ]);

    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'install-counter',
        kind: 'apps.install',
        title: 'Install Counter on Living-room Pi',
        progress: { done: 1, total: 4, unit: 'steps' },
        steps: [
          { label: 'Download', state: 'done' },
          { label: 'Upload to the device', state: 'running' },
        ],
      }),
    );
    const task = await within(card).findByRole('article', {
      name: 'Install Counter on Living-room Pi',
    });
    expect(within(task).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '25');
    expect(within(card).getByRole('heading', { name: 'Counter' })).toHaveFocus();
    expect(
      within(task).getByRole('list', { name: 'Steps of Install Counter on Living-room Pi' }),
    ).toBeVisible();
    expect(within(card).queryByRole('button', { name: 'Install Counter' })).not.toBeInTheDocument();

    await fireEvent.click(
      within(task).getByRole('button', { name: 'Cancel Install Counter on Living-room Pi' }),
    );
    expect(hearth.invokesOf('tasks:cancel')).toEqual([{ id: 'install-counter' }]);

    // It finishes: the app arrives on the device and is running.
    hearth.emit('apps:changed', [counter({ state: 'starting' })]);
    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'install-counter',
        title: 'Install Counter on Living-room Pi',
        state: 'succeeded',
        endedAt: Date.now(),
      }),
    );
    hearth.emit('apps:changed', [counter({ state: 'running' })]);

    await expect.poll(() => card.textContent).toContain('Installed on Living-room Pi');
    expect(within(card).queryByRole('article')).not.toBeInTheDocument();
    expect(within(card).queryByRole('button', { name: 'Install Counter' })).not.toBeInTheDocument();
    expect(apps.announcement).toBe('Counter is running.');
    expect(within(installedCard('Counter')).getByText('Running')).toBeVisible();
  });

  it('lets the owner choose the device when there are several', async () => {
    hearth.devices = [livingRoom, study];
    await showApps();
    const card = catalogCard('Counter');
    const device = within(card).getByRole('combobox', { name: 'Device' });
    expect(
      within(device)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['Living-room Pi', 'Study PC']);

    await fireEvent.change(device, { target: { value: study.id } });
    await fireEvent.click(within(card).getByRole('button', { name: 'Install Counter' }));

    expect(hearth.invokesOf('apps:install')).toEqual([{ deviceId: study.id, appId: 'counter' }]);
  });

  it('offers only the devices that do not have it yet', async () => {
    hearth.devices = [livingRoom, study];
    hearth.apps = [counter()];
    await showApps();
    const card = catalogCard('Counter');
    expect(card).toHaveTextContent('Installed on Living-room Pi');
    expect(within(card).queryByRole('combobox', { name: 'Device' })).not.toBeInTheDocument();
    await fireEvent.click(within(card).getByRole('button', { name: 'Install Counter' }));
    expect(hearth.invokesOf('apps:install')).toEqual([{ deviceId: study.id, appId: 'counter' }]);
  });

  it('shows why an install failed', async () => {
    hearth.fail('apps:install', new HearthError('DISK_NEARLY_FULL'));
    await showApps();
    await fireEvent.click(screen.getByRole('button', { name: 'Install Counter' }));
    await expect.poll(() => notices.error).toMatch(/nearly out of storage space/);
  });

  it('asks for a device first when there is none', async () => {
    hearth.devices = [];
    const { onAddDevice } = await showApps();
    const install = within(catalogCard('Counter')).getByRole('button', { name: 'Install Counter' });
    expect(install).toBeDisabled();
    expect(install).toHaveAccessibleDescription(/Prepare a device first/);

    await fireEvent.click(screen.getByRole('button', { name: 'Add your first device' }));
    expect(onAddDevice).toHaveBeenCalledOnce();
  });

  it('says honestly when the catalog is empty', async () => {
    hearth.catalog = [];
    await showApps();
    expect(screen.getByRole('heading', { name: 'No apps available yet' })).toBeVisible();
    expect(
      screen.getByText(
        "Hearth's app catalog is empty in this version; apps will appear here as they are published.",
      ),
    ).toBeVisible();
    expect(screen.queryByRole('list', { name: 'Available apps' })).not.toBeInTheDocument();
  });
});

describe('adding a catalog', () => {
  it('sends the address, shows the new apps, and explains a refusal in words', async () => {
    hearth.handle('catalog:add', ({ url }) => {
      if (url.includes('untrusted')) {
        throw new HearthError(
          'INVALID_INPUT',
          'This app catalog is not signed by anyone Hearth trusts, so Hearth will not use it.',
        );
      }
      hearth.catalog = [...hearth.catalog, fakeCatalogApp({ id: 'notes', name: 'Notes' })];
      return [...hearth.catalog];
    });
    await showApps();
    await fireEvent.click(screen.getByText('Add apps from another catalog'));
    const address = screen.getByRole('textbox', { name: 'Catalog address' });

    await fireEvent.input(address, { target: { value: 'https://untrusted.example/catalog.json' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add catalog' }));
    // The app frame shows the notice; here, the notice itself carries the sentence.
    await vi.waitFor(() => expect(notices.error).toContain('not signed by anyone Hearth trusts'));

    await fireEvent.input(address, { target: { value: 'https://apps.example/catalog.json' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add catalog' }));
    expect(await screen.findByText('Catalog added.')).toBeInTheDocument();
    expect(catalogCard('Notes')).toBeInTheDocument();
    expect(hearth.invokesOf('catalog:add')).toEqual([
      { url: 'https://untrusted.example/catalog.json' },
      { url: 'https://apps.example/catalog.json' },
    ]);
  });
});
