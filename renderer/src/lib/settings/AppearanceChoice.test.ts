import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AppearanceChoice from './AppearanceChoice.svelte';

describe('AppearanceChoice', () => {
  it('is a labelled group of three choices with the current one checked', () => {
    render(AppearanceChoice, { value: 'light', onChange: () => {} });
    expect(screen.getByRole('group', { name: 'Appearance' })).toBeVisible();
    expect(screen.getByRole('radio', { name: 'System' })).not.toBeChecked();
    expect(screen.getByRole('radio', { name: 'Light' })).toBeChecked();
    expect(screen.getByRole('radio', { name: 'Dark' })).not.toBeChecked();
  });

  it('reports the choice the owner makes', async () => {
    const onChange = vi.fn();
    render(AppearanceChoice, { value: 'system', onChange });
    await fireEvent.click(screen.getByRole('radio', { name: 'Dark' }));
    expect(onChange).toHaveBeenCalledWith('dark');
  });
});
