// Closing the window does not stop Hearth: it keeps watching the devices from the tray
// (the first time, it says so). Where the desktop has no tray, a hidden Hearth could be
// seen again only by launching it anew, so closing asks whether to keep it running.
import type { BrowserWindow, Dialog } from 'electron';
import type { Settings } from '../../shared/model';

export interface CloseToTrayOptions {
  dialog: Pick<Dialog, 'showMessageBox'>;
  platform: NodeJS.Platform;
  /** Whether this desktop shows Hearth's tray icon (see tray-host.ts). */
  hasTray: boolean;
  /** True once the owner chose Quit: the close then goes ahead. */
  isQuitting(): boolean;
  quit(): void;
  settings: {
    get(): Promise<Settings>;
    update(patch: Partial<Settings>): Promise<unknown>;
  };
  onError(error: unknown): void;
}

const whereItLives = (platform: NodeJS.Platform) =>
  platform === 'darwin' ? 'the menu bar' : 'the tray, by the clock';

export function keepRunningOnClose(window: BrowserWindow, options: CloseToTrayOptions): void {
  let asking = false;

  const tellOnce = async () => {
    if ((await options.settings.get()).closeToTrayNoticeShown) return;
    // Remembered before it is shown: a second close while it is up must not show it again.
    await options.settings.update({ closeToTrayNoticeShown: true });
    await options.dialog.showMessageBox({
      type: 'info',
      message: 'Hearth is still running',
      detail: `It keeps watching your devices and tells you when one needs you. Find it in ${whereItLives(options.platform)}; choose Quit Hearth there to stop it.`,
      buttons: ['OK'],
    });
  };

  const ask = async () => {
    if (asking) return;
    asking = true;
    try {
      const { response } = await options.dialog.showMessageBox(window, {
        type: 'question',
        message: 'Keep Hearth running?',
        detail:
          'This desktop shows no tray icon, so once the window is closed you will see Hearth again only by opening it from your applications. While it runs, it keeps watching your devices and tells you when one needs you.',
        buttons: ['Keep running', 'Quit Hearth', 'Cancel'],
        defaultId: 0,
        cancelId: 2,
      });
      if (response === 0) window.hide();
      if (response === 1) options.quit();
    } finally {
      asking = false;
    }
  };

  window.on('close', (event) => {
    if (options.isQuitting()) return;
    event.preventDefault();
    if (!options.hasTray) return void ask().catch((err: unknown) => options.onError(err));
    window.hide();
    void tellOnce().catch((err: unknown) => options.onError(err));
  });
}
