// Builds every service once, from the ports a shell provides. Electron's main.ts and the
// browser-mode server both call this: the logic behind window.hearth is the same code
// in both; only the transport differs.
import { join } from 'node:path';
import type { AppInfo } from '../shared/model';
import type { Emit } from './ipc/events';
import { runComputerCheck } from './services/checks/computer-check';
import { systemClock } from './services/clock';
import type { Clock } from './services/clock';
import { listenForServices } from './services/discovery/mdns-listen';
import type { Logger } from './services/logger';
import { SettingsService } from './services/settings/settings-service';
import { AtomicJsonStore } from './services/store/atomic-json-store';
import { TaskManager } from './services/tasks/task-manager';

export interface AppServicesOptions {
  userDataDir: string;
  emit: Emit;
  log: Logger;
  info: AppInfo;
  clock?: Clock;
  /** How long "Check this computer" listens for devices. */
  checkListenMs?: number;
}

export interface AppServices {
  info: AppInfo;
  store: AtomicJsonStore;
  settings: SettingsService;
  tasks: TaskManager;
  runComputerCheck(): string;
  dispose(): void;
}

export function createAppServices(options: AppServicesOptions): AppServices {
  const { emit, log, userDataDir } = options;
  const store = new AtomicJsonStore(join(userDataDir, 'state'), {
    onRecovered: (name, movedTo) =>
      log.warn({ name, movedTo }, 'a damaged state file was set aside and the last good copy used'),
  });
  const tasks = new TaskManager({
    clock: options.clock ?? systemClock,
    publish: (s) => emit('tasks:updated', s),
  });
  const settings = new SettingsService(store, (s) => emit('settings:changed', s));
  return {
    info: options.info,
    store,
    settings,
    tasks,
    runComputerCheck: () => {
      const check = runComputerCheck({
        tasks,
        store,
        userDataDir,
        listen: listenForServices,
        ...(options.checkListenMs === undefined ? {} : { listenMs: options.checkListenMs }),
      });
      return check.taskId;
    },
    dispose: () => tasks.cancelAll(),
  };
}
