// The native "open file" dialog for "Install from a file", the only way a path reaches
// Hearth's services from the UI: the renderer asks, the owner picks, main reads the file.
import type { BrowserWindow, Dialog, OpenDialogOptions } from 'electron';

export const imageDialogOptions: OpenDialogOptions = {
  title: 'Choose an app image',
  buttonLabel: 'Choose',
  properties: ['openFile', 'dontAddToRecent'],
  filters: [
    { name: 'App images', extensions: ['elf', 'hvt', 'virtio', 'xen', 'bin', 'img', 'kernel'] },
    { name: 'All files', extensions: ['*'] },
  ],
};

/** The chosen file's path, or null when the owner cancels. */
export async function chooseImageFile(
  dialog: Pick<Dialog, 'showOpenDialog'>,
  parent: BrowserWindow | null,
): Promise<string | null> {
  const result = parent
    ? await dialog.showOpenDialog(parent, imageDialogOptions)
    : await dialog.showOpenDialog(imageDialogOptions);
  if (result.canceled) return null;
  return result.filePaths[0] ?? null;
}
