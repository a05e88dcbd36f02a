import type { BrowserWindow } from 'electron';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SettingsService } from '../services/settings/settings-service';
import { AtomicJsonStore } from '../services/store/atomic-json-store';
import { keepRunningOnClose } from './close-to-tray';
import { FakeBrowserWindow, navigationEvent } from './fake-electron';

/** Typed so a test can pass another platform. */
const LINUX: NodeJS.Platform = 'linux';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-close-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

function setup({ hasTray = true, answer = 0, platform = LINUX } = {}) {
  const window = new FakeBrowserWindow({});
  window.show();
  const boxes: { parent: boolean; message: string; buttons: string[] }[] = [];
  let quits = 0;
  let quitting = false;
  const settings = new SettingsService(new AtomicJsonStore(dir), () => undefined);
  keepRunningOnClose(window as unknown as BrowserWindow, {
    dialog: {
      showMessageBox: (...args: unknown[]) => {
        const opts = args.at(-1) as { message: string; buttons: string[] };
        boxes.push({ parent: args.length === 2, message: opts.message, buttons: opts.buttons });
        return Promise.resolve({ response: answer, checkboxChecked: false });
      },
    },
    platform,
    hasTray,
    isQuitting: () => quitting,
    quit: () => quits++,
    settings,
    onError: (e) => {
      throw e;
    },
  });
  const close = async () => {
    const event = navigationEvent();
    window.emit('close', event);
    await settle();
    return event.prevented;
  };
  return { window, boxes, close, settings, quits: () => quits, quit: () => (quitting = true) };
}

describe('closing the window with a tray', () => {
  it('keeps Hearth running in the tray and says so the first time only', async () => {
    const { window, boxes, close, settings } = setup();
    expect(await close()).toBe(true);
    expect(window.shown).toBe(false);
    await vi.waitFor(() =>
      expect(boxes.map((b) => b.message)).toEqual(['Hearth is still running']),
    );
    expect((await settings.get()).closeToTrayNoticeShown).toBe(true);
    window.show();
    expect(await close()).toBe(true);
    expect(boxes).toHaveLength(1);
  });

  it('remembers the notice across a restart of Hearth', async () => {
    const first = setup();
    await first.close();
    await vi.waitFor(() => expect(first.boxes).toHaveLength(1));
    const again = setup();
    await again.close();
    expect(again.boxes).toEqual([]);
  });

  it('lets the window close when the owner quits', async () => {
    const { close, quit, boxes } = setup();
    quit();
    expect(await close()).toBe(false);
    expect(boxes).toEqual([]);
  });
});

describe('closing the window on a Linux desktop with no tray', () => {
  it('asks whether to keep Hearth running; "Keep running" hides the window', async () => {
    const { window, boxes, close, quits } = setup({ hasTray: false, answer: 0 });
    expect(await close()).toBe(true);
    expect(boxes).toEqual([
      {
        parent: true,
        message: 'Keep Hearth running?',
        buttons: ['Keep running', 'Quit Hearth', 'Cancel'],
      },
    ]);
    expect(window.shown).toBe(false);
    expect(quits()).toBe(0);
  });

  it('"Quit Hearth" quits, and "Cancel" leaves the window where it is', async () => {
    const quitting = setup({ hasTray: false, answer: 1 });
    await quitting.close();
    expect(quitting.quits()).toBe(1);
    const staying = setup({ hasTray: false, answer: 2 });
    await staying.close();
    expect(staying.window.shown).toBe(true);
    expect(staying.quits()).toBe(0);
  });

  it('never shows the tray notice, which would point to nothing', async () => {
    const { boxes, close, settings } = setup({ hasTray: false, answer: 0 });
    await close();
    expect(boxes.map((b) => b.message)).not.toContain('Hearth is still running');
    expect((await settings.get()).closeToTrayNoticeShown).toBe(false);
  });
});
