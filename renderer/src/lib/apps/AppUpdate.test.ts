import { fireEvent, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../../../shared/errors';
import type { AppUpdateStatus } from '../../../../shared/model';
import { showAppsView } from '../../test-support/apps-view';
import type { FakeHearth } from '../../test-support/fake-hearth';
import {
  fakeDevice,
  fakeInstalledApp,
  fakeTask,
  fakeUpdateStatus,
  installFakeHearth,
} from '../../test-support/fake-hearth';

const pi = fakeDevice({ id: '11111111-1111-4111-8111-111111111111', name: 'Living-room Pi' });
const ref = { deviceId: pi.id, appId: 'counter' };
let hearth: FakeHearth;

beforeEach(() => {
  hearth = installFakeHearth();
  hearth.devices = [pi];
  hearth.apps = [fakeInstalledApp({ deviceId: pi.id, deviceName: pi.name })];
  hearth.updateStatuses = [status()];
});

function status(overrides: Partial<AppUpdateStatus> = {}): AppUpdateStatus {
  return fakeUpdateStatus({ deviceId: pi.id, ...overrides });
}

async function showApps() {
  await showAppsView();
  return within(screen.getByRole('article', { name: 'Counter' }));
}

describe('an update on the installed app’s card', () => {
  it('says which version is available, with its release notes folded away', async () => {
    const card = await showApps();
    expect(card.getByText('Update available: Counter 2.0.0')).toBeTruthy();
    const notes = card.getByText(/Counts twice as fast/);
    expect(notes.hidden).toBe(true);
    const toggle = card.getByRole('button', { name: /What’s new in 2\.0\.0/ });
    await fireEvent.click(toggle);
    expect(notes.hidden).toBe(false);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    // Plain text, line breaks kept: nothing from the catalog becomes markup.
    expect(notes.textContent).toBe('Counts twice as fast.\nKeeps its count.');
  });

  it('shows nothing to update on an app that is up to date or installed from a file', async () => {
    hearth.apps = [
      fakeInstalledApp({ deviceId: pi.id, deviceName: pi.name }),
      fakeInstalledApp({
        deviceId: pi.id,
        appId: 'mine',
        name: 'Mine',
        version: 'file 0a1b2c3d4e5f',
      }),
    ];
    hearth.updateStatuses = [
      status({ available: null }),
      status({
        appId: 'mine',
        appName: 'Mine',
        installedVersion: 'file 0a1b2c3d4e5f',
        available: null,
      }),
    ];
    const card = await showApps();
    expect(card.queryByText(/Update available/)).toBeNull();
    expect(card.getByRole('checkbox', { name: 'Update automatically' })).toBeTruthy();
    const mine = within(screen.getByRole('article', { name: 'Mine' }));
    expect(mine.queryByRole('checkbox', { name: 'Update automatically' })).toBeNull();
  });

  it('starts the update with “Update to 2.0.0” and follows its task on the card', async () => {
    hearth.handle('updates:start', () => {
      hearth.tasks = [
        fakeTask({ id: 'update-1', title: 'Update Counter to 2.0.0', state: 'running' }),
      ];
      return { taskId: 'update-1' };
    });
    const card = await showApps();
    await fireEvent.click(card.getByRole('button', { name: 'Update to 2.0.0' }));
    expect(hearth.invokesOf('updates:start')).toEqual([ref]);
    expect(await card.findByText('Update Counter to 2.0.0')).toBeTruthy();
    expect(card.getByRole('button', { name: 'Update to 2.0.0' })).toHaveProperty('disabled', true);
  });

  it('says why an update did not start, on the card', async () => {
    hearth.fail(
      'updates:start',
      new HearthError(
        'BACKUP_BUSY',
        'Counter is being backed up right now. Try again when it is done.',
      ),
    );
    const card = await showApps();
    await fireEvent.click(card.getByRole('button', { name: 'Update to 2.0.0' }));
    expect((await card.findByRole('alert')).textContent).toContain(
      'Counter is being backed up right now. Try again when it is done.',
    );
  });

  it('turns “Update automatically” on and off for this app', async () => {
    hearth.handle('updates:setPolicy', ({ policy }) => status({ policy }));
    const card = await showApps();
    const box = card.getByRole<HTMLInputElement>('checkbox', { name: 'Update automatically' });
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await vi.waitFor(() => expect(hearth.invokesOf('updates:setPolicy')).toHaveLength(1));
    expect(hearth.invokesOf('updates:setPolicy')).toEqual([{ ...ref, policy: 'auto' }]);
    await vi.waitFor(() => expect(box.checked).toBe(true));
    await fireEvent.click(box);
    await vi.waitFor(() =>
      expect(hearth.invokesOf('updates:setPolicy').at(-1)).toEqual({ ...ref, policy: 'ask' }),
    );
  });

  it('leaves “Update automatically” as it was when the change is refused', async () => {
    hearth.fail('updates:setPolicy', new HearthError('STORAGE_FAILED'));
    const card = await showApps();
    const box = card.getByRole<HTMLInputElement>('checkbox', { name: 'Update automatically' });
    await fireEvent.click(box);
    expect((await card.findByRole('alert')).textContent).toContain(
      'Hearth could not save its settings on this computer.',
    );
    expect(box.checked).toBe(false);
  });

  it('shows how the last update went, and what the catalog refused', async () => {
    hearth.updateStatuses = [
      status({
        available: null,
        lastOutcome: {
          at: 1,
          kind: 'rolled-back',
          message: 'Counter 3.0.0 did not start; Hearth went back to 2.0.0.',
        },
        catalogProblem:
          'The app catalog "Lab apps" sent an older copy of itself than the one Hearth already has, so Hearth refused it and keeps using its own copy.',
      }),
    ];
    const card = await showApps();
    expect(card.getByText('Counter 3.0.0 did not start; Hearth went back to 2.0.0.')).toBeTruthy();
    expect(card.getByText(/sent an older copy of itself/)).toBeTruthy();
  });
});

describe('going back to the previous version', () => {
  beforeEach(() => {
    hearth.updateStatuses = [
      status({ installedVersion: '2.0.0', available: null, previousVersion: '1.0.0' }),
    ];
    hearth.handle('updates:goBack', () => ({ taskId: 'back-1' }));
  });

  it('asks whether to keep the data as it is now, or as it was before the update', async () => {
    const card = await showApps();
    await fireEvent.click(card.getByRole('button', { name: 'Go back to 1.0.0…' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Go back to Counter 1.0.0?' }));
    const now = dialog.getByRole<HTMLInputElement>('radio', { name: /Keep the data as it is now/ });
    const before = dialog.getByRole<HTMLInputElement>('radio', {
      name: /Use the data as it was before the update/,
    });
    expect(now.checked).toBe(true);
    await fireEvent.click(before);
    await fireEvent.click(dialog.getByRole('button', { name: 'Go back to 1.0.0' }));
    await vi.waitFor(() =>
      expect(hearth.invokesOf('updates:goBack')).toEqual([{ ...ref, data: 'before' }]),
    );
    await vi.waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('keeps the data as it is by default, and Cancel changes nothing', async () => {
    const card = await showApps();
    await fireEvent.click(card.getByRole('button', { name: 'Go back to 1.0.0…' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(hearth.invokesOf('updates:goBack')).toEqual([]);
    await fireEvent.click(card.getByRole('button', { name: 'Go back to 1.0.0…' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Go back to 1.0.0' }));
    await vi.waitFor(() =>
      expect(hearth.invokesOf('updates:goBack')).toEqual([{ ...ref, data: 'now' }]),
    );
  });
});

describe('Check for updates', () => {
  it('reads the catalogs again and says what it found, a refused catalog included', async () => {
    await showApps();
    const refusal =
      'The app catalog "Lab apps" sent an older copy of itself than the one Hearth already has, so Hearth refused it and keeps using its own copy.';
    hearth.handle('updates:check', () => [status({ catalogProblem: refusal })]);
    await fireEvent.click(screen.getByRole('button', { name: 'Check for updates' }));
    await vi.waitFor(() => expect(hearth.invokesOf('updates:check')).toHaveLength(1));
    const said = await screen.findByText(/One app can be updated\./);
    expect(said.textContent).toContain(refusal);
    // The catalogs' apps are read again too: they may offer newer versions now.
    expect(hearth.invokesOf('catalog:list').length).toBeGreaterThanOrEqual(2);
  });
});
