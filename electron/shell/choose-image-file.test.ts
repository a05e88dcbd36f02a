import type { BrowserWindow, Dialog } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { chooseImageFile, imageDialogOptions } from './choose-image-file';

function fakeDialog(result: { canceled: boolean; filePaths: string[] }) {
  const showOpenDialog = vi.fn(() => Promise.resolve(result));
  return {
    dialog: { showOpenDialog } as unknown as Pick<Dialog, 'showOpenDialog'>,
    showOpenDialog,
  };
}

describe('chooseImageFile', () => {
  it('answers the chosen path, with the dialog attached to the window', async () => {
    const { dialog, showOpenDialog } = fakeDialog({
      canceled: false,
      filePaths: ['/home/o/app.hvt'],
    });
    const window = {} as BrowserWindow;
    expect(await chooseImageFile(dialog, window)).toBe('/home/o/app.hvt');
    expect(showOpenDialog).toHaveBeenCalledWith(window, imageDialogOptions);
    expect(imageDialogOptions.properties).toContain('openFile');
    expect(imageDialogOptions.properties).not.toContain('multiSelections');
  });

  it('answers null when the owner cancels, and works without a window', async () => {
    const { dialog, showOpenDialog } = fakeDialog({ canceled: true, filePaths: [] });
    expect(await chooseImageFile(dialog, null)).toBeNull();
    expect(showOpenDialog).toHaveBeenCalledWith(imageDialogOptions);
  });
});
