import { describe, expect, it } from 'vitest';
import { chooseBackupFolder, chooseKitFile, folderDialogOptions } from './backup-dialogs';

describe('backup dialogs', () => {
  it('asks for a folder (one the owner may create) and gives back the pick or null', async () => {
    const asked: unknown[] = [];
    const dialog = {
      showOpenDialog: (...args: unknown[]) => {
        asked.push(args.at(-1));
        return Promise.resolve({ canceled: false, filePaths: ['/media/usb/Backups'] });
      },
    };
    expect(await chooseBackupFolder(dialog as never, null)).toBe('/media/usb/Backups');
    expect(asked[0]).toBe(folderDialogOptions);
    expect(folderDialogOptions.properties).toEqual(
      expect.arrayContaining(['openDirectory', 'createDirectory']),
    );
    const cancelled = { showOpenDialog: () => Promise.resolve({ canceled: true, filePaths: [] }) };
    expect(await chooseBackupFolder(cancelled as never, null)).toBeNull();
  });

  it('saves the kit where the owner says, suggesting a name, and null on cancel', async () => {
    let suggested = '';
    const dialog = {
      showSaveDialog: (options: { defaultPath: string }) => {
        suggested = options.defaultPath;
        return Promise.resolve({ canceled: false, filePath: '/home/o/kit.html' });
      },
    };
    expect(
      await chooseKitFile(dialog as never, null, '/home/o/Documents/Hearth recovery kit.html'),
    ).toBe('/home/o/kit.html');
    expect(suggested).toBe('/home/o/Documents/Hearth recovery kit.html');
    const cancelled = { showSaveDialog: () => Promise.resolve({ canceled: true, filePath: '' }) };
    expect(await chooseKitFile(cancelled as never, null, '/x.html')).toBeNull();
  });
});
