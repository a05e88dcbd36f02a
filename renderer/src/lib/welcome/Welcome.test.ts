import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import Welcome from './Welcome.svelte';

describe('Welcome', () => {
  it('says what Hearth is for and offers the two ways on', async () => {
    const onAddDevice = vi.fn();
    const onExplore = vi.fn();
    render(Welcome, { focusRequest: 0, onAddDevice, onExplore });

    expect(screen.getByRole('heading', { level: 1, name: 'Welcome to Hearth' })).toBeVisible();
    expect(
      screen.getByText(/keep your family's calendar, files and website at home/),
    ).toBeVisible();

    await fireEvent.click(screen.getByRole('button', { name: 'Add your first device' }));
    expect(onAddDevice).toHaveBeenCalledOnce();
    await fireEvent.click(screen.getByRole('button', { name: 'Explore Hearth' }));
    expect(onExplore).toHaveBeenCalledOnce();
  });

  it('does not steal focus when the app first opens', () => {
    render(Welcome, { focusRequest: 0, onAddDevice: () => {}, onExplore: () => {} });
    expect(screen.getByRole('heading', { name: 'Welcome to Hearth' })).not.toHaveFocus();
  });
});
