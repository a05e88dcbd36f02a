// The native dialogs of backups: the folder backups go to, and where the recovery kit is saved.
// Like the image dialog, they are the only way a path reaches the services from the UI.
import type { BrowserWindow, Dialog, OpenDialogOptions, SaveDialogOptions } from 'electron';

export const folderDialogOptions: OpenDialogOptions = {
  title: 'Choose where Hearth keeps your backups',
  buttonLabel: 'Keep backups here',
  properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'],
};

export const kitDialogOptions = (defaultPath: string): SaveDialogOptions => ({
  title: 'Save your Hearth recovery kit',
  buttonLabel: 'Save',
  defaultPath,
  filters: [{ name: 'Web page', extensions: ['html'] }],
  properties: ['createDirectory', 'showOverwriteConfirmation', 'dontAddToRecent'],
});

/** The chosen folder, or null when the owner cancels. */
export async function chooseBackupFolder(
  dialog: Pick<Dialog, 'showOpenDialog'>,
  parent: BrowserWindow | null,
): Promise<string | null> {
  const result = parent
    ? await dialog.showOpenDialog(parent, folderDialogOptions)
    : await dialog.showOpenDialog(folderDialogOptions);
  if (result.canceled) return null;
  return result.filePaths[0] ?? null;
}

/** Where to save the kit, or null when the owner cancels. */
export async function chooseKitFile(
  dialog: Pick<Dialog, 'showSaveDialog'>,
  parent: BrowserWindow | null,
  defaultPath: string,
): Promise<string | null> {
  const options = kitDialogOptions(defaultPath);
  const result = parent
    ? await dialog.showSaveDialog(parent, options)
    : await dialog.showSaveDialog(options);
  if (result.canceled || !result.filePath) return null;
  return result.filePath;
}
