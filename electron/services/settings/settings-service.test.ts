import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Settings } from '../../../shared/model';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { SettingsService } from './settings-service';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('starts with the first-run defaults', async () => {
  const service = new SettingsService(new AtomicJsonStore(dir), () => undefined);
  expect(await service.get()).toEqual({
    theme: 'system',
    welcomeDone: false,
    allowUnprotectedKey: false,
    startAtLogin: false,
    closeToTrayNoticeShown: false,
  });
});

it('saves a change, announces it, and still has it after a restart', async () => {
  const published: Settings[] = [];
  const service = new SettingsService(new AtomicJsonStore(dir), (s) => published.push(s));
  await service.update({ theme: 'dark' });
  await service.update({ welcomeDone: true });
  expect(published.at(-1)).toEqual({
    theme: 'dark',
    welcomeDone: true,
    allowUnprotectedKey: false,
    startAtLogin: false,
    closeToTrayNoticeShown: false,
  });
  const restarted = new SettingsService(new AtomicJsonStore(dir), () => undefined);
  expect(await restarted.get()).toEqual({
    theme: 'dark',
    welcomeDone: true,
    allowUnprotectedKey: false,
    startAtLogin: false,
    closeToTrayNoticeShown: false,
  });
});

it('keeps what a change leaves out, and reads settings saved before a field existed', async () => {
  const store = new AtomicJsonStore(dir);
  const service = new SettingsService(store, () => undefined);
  await service.update({ allowUnprotectedKey: true });
  await service.update({ theme: 'light' });
  expect(await service.get()).toEqual({
    theme: 'light',
    welcomeDone: false,
    allowUnprotectedKey: true,
    startAtLogin: false,
    closeToTrayNoticeShown: false,
  });

  await store.save('settings', { theme: 'dark', welcomeDone: true });
  expect(await new SettingsService(new AtomicJsonStore(dir), () => undefined).get()).toEqual({
    theme: 'dark',
    welcomeDone: true,
    allowUnprotectedKey: false,
    startAtLogin: false,
    closeToTrayNoticeShown: false,
  });
});
