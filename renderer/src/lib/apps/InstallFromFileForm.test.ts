import { fireEvent, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../../shared/errors';
import { showAppsView } from '../../test-support/apps-view';
import type { FakeHearth } from '../../test-support/fake-hearth';
import {
  fakeChosenImage,
  fakeDevice,
  fakeTask,
  installFakeHearth,
} from '../../test-support/fake-hearth';

const pc = fakeDevice({
  id: '11111111-1111-4111-8111-111111111111',
  name: 'Study PC',
  capabilities: { ...fakeDevice().capabilities, arch: 'x86_64', rawArch: 'x86_64' },
});
const pi = fakeDevice({ id: '22222222-2222-4222-8222-222222222222', name: 'Living-room Pi' });

let hearth: FakeHearth;

beforeEach(() => {
  hearth = installFakeHearth();
  hearth.devices = [pi, pc];
});

async function openForm() {
  const { tasks } = await showAppsView();
  await fireEvent.click(screen.getByRole('button', { name: 'Install from a file' }));
  return { tasks };
}

const form = () => screen.findByRole('region', { name: /^Install / });

describe('Install from a file', () => {
  it('says what the kernel is, offers only devices that can run it, and installs with the owner’s resources', async () => {
    hearth.chosenImage = fakeChosenImage();
    hearth.handle('apps:installFromFile', () => {
      hearth.tasks = [fakeTask({ id: 'install-file-1', title: 'Install Counter on Study PC' })];
      return { taskId: 'install-file-1', appId: 'counter' };
    });
    await openForm();
    const region = await form();
    expect(within(region).getByRole('heading', { name: 'Install counter-v1.elf' })).toHaveFocus();
    expect(region).toHaveTextContent('A multiboot kernel for PCs (32-bit).');
    const device = within(region).getByRole('combobox', { name: 'Device' });
    expect(
      within(device)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['Study PC']);
    expect(
      within(region).getByRole('combobox', { name: 'How it reaches its volumes' }),
    ).toHaveValue('ide');

    await fireEvent.input(within(region).getByRole('textbox', { name: 'App name' }), {
      target: { value: 'Counter' },
    });
    await fireEvent.click(within(region).getByRole('button', { name: 'Add a volume' }));
    await fireEvent.input(within(region).getByRole('textbox', { name: 'Name of volume 1' }), {
      target: { value: 'disk' },
    });
    await fireEvent.input(
      within(region).getByRole('spinbutton', { name: 'Size of volume 1 (MB)' }),
      {
        target: { value: '1' },
      },
    );
    await fireEvent.input(within(region).getByRole('textbox', { name: 'Ready line' }), {
      target: { value: 'READY' },
    });
    await fireEvent.click(within(region).getByRole('button', { name: 'Install Counter' }));

    // The form closes and the install follows in its place.
    expect(
      await screen.findByRole('article', { name: 'Install Counter on Study PC' }),
    ).toBeVisible();
    expect(screen.queryByRole('region', { name: /^Install / })).toBeNull();
    expect(hearth.invokesOf('apps:installFromFile')).toEqual([
      {
        token: 'tok_0123456789abcdefABCD',
        deviceId: pc.id,
        name: 'Counter',
        memoryMiB: 32,
        disk: 'ide',
        volumes: [{ name: 'disk', sizeMiB: 1 }],
        ports: [],
        bootArgs: '',
        health: { kind: 'console', pattern: 'READY' },
      },
    ]);
  });

  it('prefills a Solo5 unikernel’s storage and asks for a port for its network', async () => {
    hearth.chosenImage = fakeChosenImage({
      fileName: 'notes.virtio',
      facts: {
        kind: 'solo5',
        abi: 'virtio',
        arch: 'x86_64',
        networks: ['service'],
        blocks: ['storage'],
      },
      suggested: {
        ...fakeChosenImage().suggested,
        memoryMiB: 64,
        disk: 'virtio',
        volumes: [{ name: 'storage', sizeMiB: 64 }],
      },
    });
    await openForm();
    const region = await form();
    expect(region).toHaveTextContent(
      'A Solo5 unikernel for QEMU (virtio) that needs one network and a block device called storage.',
    );
    expect(within(region).getByRole('textbox', { name: 'Name of volume 1' })).toHaveValue(
      'storage',
    );
    expect(
      within(region).queryByRole('combobox', { name: 'How it reaches its volumes' }),
    ).toBeNull();
    expect(region).toHaveTextContent('its address is 10.0.2.15');

    await fireEvent.click(within(region).getByRole('button', { name: 'Install notes' }));
    const problems = within(region).getByRole('alert', { name: 'What to fix first' });
    expect(problems).toHaveTextContent('This app needs a network: publish at least one port.');
    expect(problems).toHaveTextContent('Say which line the app prints when it is ready');
    expect(hearth.invokesOf('apps:installFromFile')).toEqual([]);

    await fireEvent.click(within(region).getByRole('button', { name: 'Publish a port' }));
    await fireEvent.input(within(region).getByRole('spinbutton', { name: 'Port 1 in the app' }), {
      target: { value: '80' },
    });
    await fireEvent.input(
      within(region).getByRole('spinbutton', { name: 'Port 1 on the device' }),
      {
        target: { value: '8080' },
      },
    );
    await fireEvent.input(
      within(region).getByRole('textbox', { name: 'Service type of port 1 (optional)' }),
      { target: { value: '_http._tcp' } },
    );
    await fireEvent.click(within(region).getByRole('radio', { name: 'A web page answers' }));
    expect(within(region).getByRole('combobox', { name: 'Port to check' })).toHaveValue('80');
    await fireEvent.click(within(region).getByRole('button', { name: 'Install notes' }));
    expect(hearth.invokesOf('apps:installFromFile')).toMatchObject([
      {
        volumes: [{ name: 'storage', sizeMiB: 64 }],
        ports: [{ guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp' }],
        health: { kind: 'http', port: 80, path: '/' },
      },
    ]);
  });

  it('says plainly why an hvt image cannot be installed, and offers another file', async () => {
    const problem =
      'This Solo5 unikernel is built for the solo5-hvt tender, which Hearth does not install on devices, so Hearth cannot run it.';
    hearth.chosenImage = fakeChosenImage({
      fileName: 'dns.hvt',
      facts: { kind: 'solo5', abi: 'hvt', arch: 'x86_64', networks: ['service'], blocks: [] },
      targets: [],
      problem,
    });
    await openForm();
    const region = await form();
    expect(within(region).getByRole('alert')).toHaveTextContent(problem);
    expect(within(region).queryByRole('button', { name: /^Install / })).toBeNull();
    await fireEvent.click(within(region).getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('button', { name: 'Install from a file' })).toBeVisible();
  });

  it('shows the app’s refusal in the form and keeps what the owner typed', async () => {
    hearth.chosenImage = fakeChosenImage();
    hearth.fail(
      'apps:installFromFile',
      new HearthError('INVALID_INPUT', 'counter-v1.elf changed since you chose it.'),
    );
    await openForm();
    const region = await form();
    await fireEvent.input(within(region).getByRole('textbox', { name: 'Ready line' }), {
      target: { value: 'READY' },
    });
    await fireEvent.click(within(region).getByRole('button', { name: 'Install counter-v1' }));
    expect(await within(region).findByRole('alert')).toHaveTextContent(
      'counter-v1.elf changed since you chose it.',
    );
    expect(within(region).getByRole('textbox', { name: 'Ready line' })).toHaveValue('READY');
  });

  it('does nothing when the owner cancels the dialog, and says why a file will not do', async () => {
    await openForm();
    expect(screen.queryByRole('region', { name: /^Install / })).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    hearth.fail(
      'apps:chooseImage',
      new HearthError(
        'INVALID_INPUT',
        'disk.img is 600 MB; Hearth installs image files of up to 512 MB.',
      ),
    );
    await fireEvent.click(screen.getByRole('button', { name: 'Install from a file' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('disk.img is 600 MB');
  });

  it('says when none of the owner’s devices can run the image', async () => {
    hearth.chosenImage = fakeChosenImage({ targets: ['xen-x86_64'] });
    await openForm();
    expect(within(await form()).getByRole('alert')).toHaveTextContent(
      'None of your devices can run it: it needs a PC running Xen.',
    );
  });
});
