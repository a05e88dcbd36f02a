import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../../../shared/errors';
import type { AlertTarget, DeviceRecord } from '../../../../shared/model';
import { DevicesState } from '../../state/devices.svelte';
import { NoticesState } from '../../state/notices.svelte';
import type { FakeHearth } from '../../test-support/fake-hearth';
import { fakeDevice, installFakeHearth } from '../../test-support/fake-hearth';
import DevicesView from './DevicesView.svelte';

let hearth: FakeHearth;
let notices: NoticesState;

beforeEach(() => {
  hearth = installFakeHearth();
  notices = new NoticesState();
  hearth.devices = [
    fakeDevice({ id: '0f8fad5b-d9cb-469f-a165-70867728950e', name: 'Living-room Pi' }),
    fakeDevice({ id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', name: 'Attic box' }),
  ];
  hearth.handle('devices:forget', ({ id }) => {
    hearth.devices = hearth.devices.filter((d) => d.id !== id);
    return null;
  });
});

/** The view over the fake's devices; what it asked of the window is recorded. */
async function showDevices(opening: AlertTarget | null = null) {
  const devices = new DevicesState(window.hearth, notices);
  await devices.start();
  const opened: number[] = [];
  const preparing: string[] = [];
  render(DevicesView, {
    devices,
    focusRequest: 1,
    onAddDevice: () => undefined,
    onPrepareAgain: (device: DeviceRecord) => preparing.push(device.name),
    opening,
    onOpened: () => opened.push(1),
  });
  return { devices, opened, preparing };
}

describe('forgetting a device', () => {
  it('asks first, says nothing changes on the device, and starts on Cancel', async () => {
    await showDevices();
    await fireEvent.click(screen.getByRole('button', { name: 'Forget Living-room Pi' }));
    const dialog = screen.getByRole('dialog', { name: 'Forget Living-room Pi?' });
    expect(dialog).toHaveAccessibleDescription(/Nothing changes on the device/);
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(hearth.invokesOf('devices:forget')).toEqual([]);
    expect(screen.getAllByRole('article')).toHaveLength(2);
  });

  it('forgets only that device when confirmed', async () => {
    await showDevices();
    await fireEvent.click(screen.getByRole('button', { name: 'Forget Attic box' }));
    const dialog = screen.getByRole('dialog', { name: 'Forget Attic box?' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Forget Attic box' }));
    expect(hearth.invokesOf('devices:forget')).toEqual([
      { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7' },
    ]);
    await screen.findByRole('article', { name: 'Living-room Pi' });
    expect(screen.queryByRole('article', { name: 'Attic box' })).toBeNull();
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('keeps the device and the dialog, and says why, when forgetting fails', async () => {
    hearth.handle('devices:forget', () => {
      throw new HearthError('STORAGE_FAILED');
    });
    await showDevices();
    await fireEvent.click(screen.getByRole('button', { name: 'Forget Attic box' }));
    const dialog = screen.getByRole('dialog', { name: 'Forget Attic box?' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Forget Attic box' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(notices.error).toMatch(/could not save/i);
    expect(screen.getByRole('article', { name: 'Attic box' })).toBeInTheDocument();
    expect(screen.getByRole('dialog', { name: 'Forget Attic box?' })).toBeInTheDocument();
  });
});

describe('arriving from an alert about a device', () => {
  const showAt = async (deviceId: string) =>
    (await showDevices({ view: 'devices', deviceId })).opened;

  it('brings that device into sight and gives it the keyboard', async () => {
    const opened = await showAt('7c9e6679-7425-40de-944b-e07fc1f90ae7');
    await vi.waitFor(() => expect(opened).toHaveLength(1));
    expect(screen.getByRole('article', { name: 'Attic box' })).toHaveFocus();
  });

  it('stays at the top when Hearth no longer looks after that device', async () => {
    const opened = await showAt('3b241101-e2bb-4255-8caf-4136c566a962');
    await vi.waitFor(() => expect(opened).toHaveLength(1));
    for (const name of ['Living-room Pi', 'Attic box'])
      expect(screen.getByRole('article', { name })).not.toHaveFocus();
  });
});

describe('preparing a device again', () => {
  const attic = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

  async function show(opening: AlertTarget | null) {
    hearth.devices = hearth.devices.map((d) => ({ ...d, needsPreparing: d.id === attic }));
    return (await showDevices(opening)).preparing;
  }

  it('says which device an older Hearth prepared, and prepares any of them again on request', async () => {
    const asked = await show(null);
    const attic = screen.getByRole('article', { name: 'Attic box' });
    expect(within(attic).getByRole('status')).toHaveTextContent(
      'Prepared by an older Hearth: prepare it again so it can do everything this Hearth does.',
    );
    const pi = screen.getByRole('article', { name: 'Living-room Pi' });
    expect(within(pi).queryByRole('status')).toBeNull();
    await fireEvent.click(within(attic).getByRole('button', { name: 'Prepare Attic box again' }));
    await fireEvent.click(within(pi).getByRole('button', { name: 'Prepare Living-room Pi again' }));
    expect(asked).toEqual(['Attic box', 'Living-room Pi']);
  });

  it("starts preparing at once when the alert's own action led here", async () => {
    const asked = await show({ view: 'devices', deviceId: attic, show: 'prepare-again' });
    await vi.waitFor(() => expect(asked).toEqual(['Attic box']));
  });

  it('only shows the device when the alert asked for nothing more', async () => {
    const asked = await show({ view: 'devices', deviceId: attic });
    await vi.waitFor(() =>
      expect(screen.getByRole('article', { name: 'Attic box' })).toHaveFocus(),
    );
    expect(asked).toEqual([]);
  });
});
