import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../../../shared/errors';
import type { TaskSnapshot } from '../../../../shared/model';
import { DevicesState } from '../../state/devices.svelte';
import { NoticesState } from '../../state/notices.svelte';
import { TasksState } from '../../state/tasks.svelte';
import { WizardState } from '../../state/wizard.svelte';
import type { FakeHearth } from '../../test-support/fake-hearth';
import {
  fakeDevice,
  fakeDiscovered,
  fakeFingerprint,
  fakeIdentity,
  fakeTask,
  installFakeHearth,
} from '../../test-support/fake-hearth';
import AddDevice from './AddDevice.svelte';

let hearth: FakeHearth;
let notices: NoticesState;

beforeEach(() => {
  hearth = installFakeHearth();
  notices = new NoticesState();
  hearth.discovered = [fakeDiscovered()];
  hearth.handle('provisioning:identify', ({ address, port }) => fakeIdentity({ address, port }));
  hearth.handle('provisioning:start', () => ({ taskId: 'prov-1' }));
  hearth.handle('devices:rename', ({ id, name }) => fakeDevice({ id, name }));
});

afterEach(() => {
  vi.useRealTimers();
});

async function openWizard() {
  const tasks = new TasksState(window.hearth, notices);
  const devices = new DevicesState(window.hearth, notices);
  await tasks.start();
  await devices.start();
  const wizard = new WizardState(window.hearth, tasks, devices, notices);
  const onLeave = vi.fn();
  const onDone = vi.fn();
  render(AddDevice, { wizard, focusRequest: 1, leaveLabel: 'Not now', onLeave, onDone });
  await screen.findByRole('list', { name: 'Devices found' });
  return { wizard, onLeave, onDone };
}

function provisioning(overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return fakeTask({
    id: 'prov-1',
    kind: 'provisioning',
    title: 'Prepare raspberrypi',
    progress: { done: 2, total: 6, unit: 'steps' },
    detail: 'Checking what the device can run',
    steps: [
      { label: 'Sign in', state: 'done' },
      {
        label: "Add Hearth's key",
        state: 'already-done',
        note: 'Hearth already had its key here.',
      },
      { label: 'Check what the device can run', state: 'running' },
    ],
    ...overrides,
  });
}

function failed(code: HearthError['code']): TaskSnapshot {
  const error = new HearthError(code).toJSON();
  return provisioning({ state: 'failed', error, endedAt: Date.now() });
}

async function chooseAndConfirm() {
  await fireEvent.click(screen.getByRole('button', { name: 'Choose raspberrypi' }));
  expect(await screen.findByRole('heading', { name: 'Is this your device?' })).toHaveFocus();
  await fireEvent.click(screen.getByRole('button', { name: 'Yes, this is my device' }));
  expect(screen.getByRole('heading', { name: 'Sign in to your device' })).toHaveFocus();
}

async function signIn(password = 'raspberry') {
  await fireEvent.input(screen.getByLabelText('Password'), { target: { value: password } });
  await fireEvent.click(screen.getByRole('button', { name: 'Prepare this device' }));
  expect(await screen.findByRole('heading', { name: 'Preparing your device' })).toHaveFocus();
}

describe('Find your device', () => {
  it('lists what is on the network, live, with what each one is', async () => {
    await openWizard();
    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
    const list = screen.getByRole('list', { name: 'Devices found' });
    expect(within(list).getByText('Raspberry Pi running Debian')).toBeVisible();
    expect(within(list).getByText('192.168.1.20')).toBeVisible();

    hearth.emit('discovery:changed', [
      fakeDiscovered(),
      fakeDiscovered({
        key: 'hid-1',
        name: 'attic',
        description: 'Already a Hearth device',
        addresses: ['192.168.1.30'],
        kind: 'hearth',
      }),
    ]);
    expect(await within(list).findByRole('button', { name: 'Choose attic' })).toBeVisible();
    expect(within(list).getByText('Already a Hearth device')).toBeVisible();
  });

  it('listens calmly while nothing is found, then points at the other ways', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    hearth.discovered = [];
    const tasks = new TasksState(window.hearth, notices);
    const devices = new DevicesState(window.hearth, notices);
    const wizard = new WizardState(window.hearth, tasks, devices, notices);
    render(AddDevice, {
      wizard,
      focusRequest: 1,
      leaveLabel: 'Not now',
      onLeave() {},
      onDone() {},
    });

    expect(await screen.findByText('Looking for devices on your network…')).toBeVisible();
    expect(screen.queryByText(/Nothing yet\?/)).not.toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(screen.getByText(/Nothing yet\?/)).toBeVisible();
  });

  it('looks up a typed address and goes straight on to its identity', async () => {
    hearth.handle('discovery:addByAddress', ({ address }) =>
      fakeDiscovered({
        key: 'debian',
        name: 'debian',
        addresses: ['10.0.0.7'],
        description: `Debian computer at ${address}`,
      }),
    );
    await openWizard();
    await fireEvent.input(screen.getByRole('textbox', { name: 'Address' }), {
      target: { value: ' debian.local ' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Look for this address' }));

    expect(await screen.findByRole('heading', { name: 'Is this your device?' })).toHaveFocus();
    expect(hearth.invokesOf('discovery:addByAddress')).toEqual([{ address: 'debian.local' }]);
    expect(hearth.invokesOf('provisioning:identify')).toEqual([{ address: '10.0.0.7', port: 22 }]);
  });

  it('prepares a device it looks after again at its last address and its own SSH port', async () => {
    hearth.handle('discovery:addByAddress', ({ address }) =>
      fakeDiscovered({ key: 'attic', name: 'attic', addresses: [address], sshPort: 22 }),
    );
    const { wizard } = await openWizard();
    await wizard.prepareAgain(
      fakeDevice({ name: 'Attic box', addresses: ['10.0.0.9'], sshPort: 2222 }),
    );
    expect(await screen.findByRole('heading', { name: 'Is this your device?' })).toHaveFocus();
    expect(hearth.invokesOf('provisioning:identify')).toEqual([
      { address: '10.0.0.9', port: 2222 },
    ]);
    await fireEvent.click(screen.getByRole('button', { name: 'Yes, this is my device' }));
    expect(screen.getByRole('heading', { name: 'Sign in to your device' })).toHaveFocus();
  });

  it('says why an address could not be found, and stays', async () => {
    hearth.fail('discovery:addByAddress', new HearthError('DEVICE_UNREACHABLE'));
    await openWizard();
    await fireEvent.input(screen.getByRole('textbox', { name: 'Address' }), {
      target: { value: '10.0.0.99' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Look for this address' }));
    await expect.poll(() => notices.error).toMatch(/could not reach the device/);
    expect(screen.getByRole('heading', { name: 'Find your device' })).toBeVisible();
  });

  it('searches this network with progress and a way to cancel', async () => {
    hearth.handle('discovery:scan', () => ({ taskId: 'scan-1' }));
    await openWizard();
    await fireEvent.click(screen.getByRole('button', { name: 'Search this network' }));
    hearth.emit(
      'tasks:updated',
      fakeTask({
        id: 'scan-1',
        kind: 'discovery',
        title: 'Search this network',
        progress: { done: 30, total: 254, unit: 'steps' },
      }),
    );
    expect(await screen.findByRole('progressbar', { name: 'Search this network' })).toHaveAttribute(
      'aria-valuenow',
      '12',
    );
    expect(screen.getByRole('button', { name: 'Search this network' })).toBeDisabled();

    await fireEvent.click(screen.getByRole('button', { name: 'Cancel Search this network' }));
    expect(hearth.invokesOf('tasks:cancel')).toEqual([{ id: 'scan-1' }]);
  });

  it('offers a way out', async () => {
    const { onLeave } = await openWizard();
    await fireEvent.click(screen.getByRole('button', { name: 'Not now' }));
    expect(onLeave).toHaveBeenCalledOnce();
  });
});

describe('Is this your device?', () => {
  it("shows the device's fingerprint and its picture", async () => {
    await openWizard();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose raspberrypi' }));

    expect(await screen.findByRole('heading', { name: 'Is this your device?' })).toHaveFocus();
    expect(hearth.invokesOf('provisioning:identify')).toEqual([
      { address: '192.168.1.20', port: 22 },
    ]);
    expect(screen.getByText(fakeFingerprint).tagName).toBe('CODE');
    const art = screen.getByRole('img', { name: "Picture of the device's identity" });
    expect(art.tagName).toBe('PRE');
    expect(art).toHaveTextContent('[ED25519 256]');
    expect(screen.getByText(/This is the device's unique identity/)).toBeVisible();

    await fireEvent.click(screen.getByRole('button', { name: 'No, go back' }));
    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
  });

  it('refuses a device whose identity changed, showing both fingerprints', async () => {
    const before = 'SHA256:' + 'b'.repeat(43);
    hearth.handle('provisioning:identify', () => fakeIdentity({ previousFingerprint: before }));
    await openWizard();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose raspberrypi' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('identity has changed');
    expect(alert).toHaveTextContent(`Before: ${before}`);
    expect(alert).toHaveTextContent(`Now: ${fakeFingerprint}`);
    expect(
      screen.queryByRole('button', { name: 'Yes, this is my device' }),
    ).not.toBeInTheDocument();
    expect(screen.getAllByRole('button').map((b) => b.textContent.trim())).toEqual(['Go back']);

    await fireEvent.click(screen.getByRole('button', { name: 'Go back' }));
    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
  });
});

describe('A device that borrows a known device’s name', () => {
  it('says it is not the owner’s device, by name, and offers no way to sign in', async () => {
    const theirs = 'SHA256:' + 'c'.repeat(43);
    hearth.handle('provisioning:identify', () =>
      fakeIdentity({
        address: '192.168.1.66',
        impersonates: { name: 'Living-room Pi', fingerprint: theirs },
      }),
    );
    await openWizard();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose raspberrypi' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(
      'This is not your Living-room Pi: it uses its name but proves a different identity',
    );
    expect(alert).toHaveTextContent(`Your Living-room Pi: ${theirs}`);
    expect(alert).toHaveTextContent(`This device, at 192.168.1.66: ${fakeFingerprint}`);
    expect(alert).toHaveTextContent('forget it in Devices, then add it again');
    expect(screen.getAllByRole('button').map((b) => b.textContent.trim())).toEqual(['Go back']);
    expect(screen.queryByLabelText('Password')).not.toBeInTheDocument();
    expect(hearth.invokesOf('provisioning:start')).toEqual([]);
  });
});

describe('Sign in and prepare', () => {
  it('sends exactly what was typed, once, and empties the password boxes', async () => {
    await openWizard();
    await chooseAndConfirm();
    const user = screen.getByRole('textbox', { name: 'User name' });
    expect(user).toHaveValue('pi');
    const password = screen.getByLabelText('Password');
    expect(password).toHaveAttribute('type', 'password');
    expect(password).toHaveAttribute('autocomplete', 'off');
    expect(
      screen.getByText('Your password is used once, to prepare the device, and is never stored.'),
    ).toBeVisible();

    await fireEvent.input(user, { target: { value: 'owner' } });
    await fireEvent.input(password, { target: { value: 's3cret pass' } });
    await fireEvent.click(
      screen.getByRole('checkbox', {
        name: 'This device uses a different password for administrator rights',
      }),
    );
    const sudo = screen.getByLabelText('Administrator password');
    await fireEvent.input(sudo, { target: { value: 'r00t' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Prepare this device' }));

    expect(hearth.invokesOf('provisioning:start')).toEqual([
      {
        address: '192.168.1.20',
        port: 22,
        fingerprint: fakeFingerprint,
        username: 'owner',
        password: 's3cret pass',
        sudoPassword: 'r00t',
        allowInstall: false,
      },
    ]);
    expect(password).toHaveValue('');
    expect(sudo).toHaveValue('');
    expect(await screen.findByRole('heading', { name: 'Preparing your device' })).toHaveFocus();
    expect(JSON.stringify(localStorage)).not.toContain('s3cret');
  });

  it('leaves the user name empty for a device that is not a Raspberry Pi', async () => {
    hearth.discovered = [fakeDiscovered({ name: 'debian', description: 'Debian computer' })];
    await openWizard();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose debian' }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Yes, this is my device' }));
    expect(screen.getByRole('textbox', { name: 'User name' })).toHaveValue('');
    await fireEvent.click(screen.getByRole('button', { name: 'Back' }));
    expect(screen.getByRole('heading', { name: 'Is this your device?' })).toHaveFocus();
  });

  it('shows the live checklist, then a failure with its sentence and Try again', async () => {
    await openWizard();
    await chooseAndConfirm();
    await signIn();
    hearth.emit('tasks:updated', provisioning());
    const card = await screen.findByRole('article', { name: 'Prepare raspberrypi' });
    expect(within(card).getByRole('progressbar', { name: 'Prepare raspberrypi' })).toHaveAttribute(
      'aria-valuenow',
      '33',
    );
    const steps = within(card).getByRole('list', { name: 'Steps of Prepare raspberrypi' });
    expect(steps).toHaveTextContent('Already done');
    expect(steps).toHaveTextContent('Hearth already had its key here.');

    await fireEvent.click(within(card).getByRole('button', { name: 'Cancel Prepare raspberrypi' }));
    expect(hearth.invokesOf('tasks:cancel')).toEqual([{ id: 'prov-1' }]);

    hearth.emit('tasks:updated', failed('CONNECTION_LOST'));
    expect(await screen.findByText(/The connection to the device was lost/)).toBeVisible();
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));

    expect(screen.getByRole('heading', { name: 'Sign in to your device' })).toHaveFocus();
    expect(screen.getByLabelText('Password')).toHaveValue('');
    expect(screen.getByText(/didn't keep the password you typed before/)).toBeVisible();
    expect(screen.getByRole('textbox', { name: 'User name' })).toHaveValue('pi');
  });

  it('after "no virtualization", tries again with installing allowed', async () => {
    await openWizard();
    await chooseAndConfirm();
    expect(
      screen.getByRole('checkbox', { name: 'Allow Hearth to install what apps need' }),
    ).not.toBeChecked();
    await signIn();
    hearth.emit('tasks:updated', failed('NO_VIRTUALIZATION'));
    await fireEvent.click(await screen.findByRole('button', { name: 'Try again' }));

    expect(
      screen.getByRole('checkbox', { name: 'Allow Hearth to install what apps need' }),
    ).toBeChecked();
    hearth.handle('provisioning:start', () => ({ taskId: 'prov-2' }));
    await signIn('raspberry');
    expect(hearth.invokesOf('provisioning:start').at(-1)).toMatchObject({ allowInstall: true });
  });

  it('asks for the administrator password when the device wants one', async () => {
    await openWizard();
    await chooseAndConfirm();
    await signIn();
    hearth.emit('tasks:updated', failed('SUDO_PASSWORD_NEEDED'));
    await fireEvent.click(await screen.findByRole('button', { name: 'Try again' }));
    expect(screen.getByLabelText('Administrator password')).toHaveValue('');
  });

  it('refuses to go on when the identity changed while preparing', async () => {
    await openWizard();
    await chooseAndConfirm();
    await signIn();
    hearth.emit('tasks:updated', failed('HOST_KEY_CHANGED'));
    expect(await screen.findByRole('alert')).toHaveTextContent('identity has changed');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: 'Go back' }));
    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
  });

  it('refuses to go on when the device turns out to claim a known device’s id', async () => {
    await openWizard();
    await chooseAndConfirm();
    await signIn();
    hearth.emit('tasks:updated', failed('DEVICE_ID_TAKEN'));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('it proves a different identity, so Hearth did not save it');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: 'Go back' }));
    expect(screen.getByRole('heading', { name: 'Find your device' })).toHaveFocus();
  });

  it('stays on sign in, password emptied, when preparing cannot start', async () => {
    hearth.fail('provisioning:start', new HearthError('INVALID_INPUT'));
    await openWizard();
    await chooseAndConfirm();
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'x' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Prepare this device' }));
    await expect.poll(() => notices.error).toMatch(/could not understand/);
    expect(screen.getByRole('heading', { name: 'Sign in to your device' })).toBeVisible();
    expect(screen.getByLabelText('Password')).toHaveValue('');
  });
});

describe('Name your device', () => {
  it('moves on when prepared, saves the name and says the device is ready', async () => {
    const { onDone } = await openWizard();
    await chooseAndConfirm();
    await signIn();
    hearth.devices = [fakeDevice()];
    hearth.emit(
      'tasks:updated',
      provisioning({
        state: 'succeeded',
        summary: 'raspberrypi is prepared.',
        endedAt: Date.now(),
      }),
    );

    expect(await screen.findByRole('heading', { name: 'Name your device' })).toHaveFocus();
    const name = screen.getByRole('textbox', { name: 'Device name' });
    expect(name).toHaveValue('raspberrypi');
    expect(screen.getByText('For example: Living-room Pi')).toBeVisible();
    await fireEvent.input(name, { target: { value: 'Living-room Pi' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save name' }));

    expect(hearth.invokesOf('devices:rename')).toEqual([
      { id: fakeDevice().id, name: 'Living-room Pi' },
    ]);
    expect(await screen.findByRole('heading', { name: 'Your device is ready' })).toHaveFocus();
    expect(screen.getByText('Living-room Pi is ready.')).toBeVisible();
    await fireEvent.click(screen.getByRole('button', { name: 'Go to Devices' }));
    expect(onDone).toHaveBeenCalledOnce();
  });
});
