import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { errorMessages } from '../../../../shared/errors';
import { NoticesState } from '../../state/notices.svelte';
import { SelfUpdateState } from '../../state/self-update.svelte';
import type { FakeHearth } from '../../test-support/fake-hearth';
import { installFakeHearth } from '../../test-support/fake-hearth';
import SelfUpdateNotice from './SelfUpdateNotice.svelte';

let hearth: FakeHearth;
let update: SelfUpdateState;

beforeEach(() => {
  hearth = installFakeHearth();
  update = new SelfUpdateState(hearth.api, new NoticesState());
  update.start();
  render(SelfUpdateNotice, { update });
});

describe('SelfUpdateNotice', () => {
  it('says nothing until an update is ready, then offers the restart with what is new', async () => {
    expect(screen.queryByRole('region', { name: 'Hearth update' })).toBeNull();
    hearth.emit('app:selfUpdate', {
      state: 'ready',
      version: '0.3.0',
      notes: 'Backups to a second device.',
    });
    const notice = await screen.findByRole('region', { name: 'Hearth update' });
    expect(within(notice).getByText('Hearth 0.3 is ready — restart to update')).toBeVisible();
    expect(within(notice).getByText('Backups to a second device.')).toBeInTheDocument();
    hearth.handle('app:restartToUpdate', () => ({ restarting: true }));
    await fireEvent.click(within(notice).getByRole('button', { name: 'Restart to update' }));
    expect(hearth.invokes).toContainEqual({ channel: 'app:restartToUpdate', request: undefined });
  });

  it('says Hearth waits for the app work running now before it restarts', async () => {
    hearth.emit('app:selfUpdate', { state: 'ready', version: '0.3.1', notes: null });
    hearth.handle('app:restartToUpdate', () => ({ restarting: false }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Restart to update' }));
    expect(
      await screen.findByText(
        'Hearth will restart as soon as the backup, restore or app update running now has finished.',
      ),
    ).toBeVisible();
    expect(screen.getByText('Hearth 0.3.1 is ready — restart to update')).toBeVisible();
    expect(screen.getByRole('button', { name: 'Restart to update' })).toBeDisabled();
  });

  it('tells a refused download in one sentence that can be dismissed', async () => {
    hearth.emit('app:selfUpdate', {
      state: 'failed',
      version: '0.3.0',
      message: errorMessages.SELF_UPDATE_FAILED,
    });
    expect(await screen.findByText(errorMessages.SELF_UPDATE_FAILED)).toBeVisible();
    expect(screen.queryByRole('button', { name: 'Restart to update' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss this message' }));
    expect(screen.queryByText(errorMessages.SELF_UPDATE_FAILED)).toBeNull();
  });
});
