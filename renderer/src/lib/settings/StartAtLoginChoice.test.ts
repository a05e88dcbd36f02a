import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import StartAtLoginChoice from './StartAtLoginChoice.svelte';

describe('StartAtLoginChoice', () => {
  it('is a labelled checkbox that shows the current choice', () => {
    render(StartAtLoginChoice, { value: true, onChange: () => {} });
    expect(screen.getByRole('checkbox', { name: 'Start Hearth when I log in' })).toBeChecked();
  });

  it('reports the choice the owner makes, either way', async () => {
    const onChange = vi.fn();
    const { rerender } = render(StartAtLoginChoice, { value: false, onChange });
    const box = screen.getByRole('checkbox', { name: 'Start Hearth when I log in' });
    expect(box).not.toBeChecked();
    await fireEvent.click(box);
    expect(onChange).toHaveBeenLastCalledWith(true);
    await rerender({ value: true, onChange });
    await fireEvent.click(box);
    expect(onChange).toHaveBeenLastCalledWith(false);
  });
});
