// Stand-ins for the Electron modules the shell uses, so the shell's wiring can be tested
// in plain Node. They record what the code asked Electron to do.
import type {
  BrowserWindowConstructorOptions,
  MenuItemConstructorOptions,
  NotificationConstructorOptions,
} from 'electron';

type Listener = (...args: unknown[]) => unknown;

export class FakeEmitter {
  readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }
  emit(event: string, ...args: unknown[]): unknown[] {
    return (this.listeners.get(event) ?? []).map((l) => l(...args));
  }
}

export class FakeWebContents extends FakeEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  permissionHandler: ((wc: unknown, permission: string, cb: (ok: boolean) => void) => void) | null =
    null;
  readonly sent: [string, unknown][] = [];
  readonly mainFrame = { url: '' };
  permissionCheckHandler: ((wc: unknown, permission: string) => boolean) | null = null;
  devicePermissionHandler: ((details: unknown) => boolean) | null = null;
  devToolsClosed = 0;
  loading = false;
  isLoading(): boolean {
    return this.loading;
  }
  readonly session = {
    setPermissionRequestHandler: (h: FakeWebContents['permissionHandler']) =>
      (this.permissionHandler = h),
    setPermissionCheckHandler: (h: FakeWebContents['permissionCheckHandler']) =>
      (this.permissionCheckHandler = h),
    setDevicePermissionHandler: (h: FakeWebContents['devicePermissionHandler']) =>
      (this.devicePermissionHandler = h),
  };
  closeDevTools(): void {
    this.devToolsClosed += 1;
  }
  setWindowOpenHandler(handler: FakeWebContents['windowOpenHandler']): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }
}

export class FakeBrowserWindow extends FakeEmitter {
  static readonly created: FakeBrowserWindow[] = [];
  static getAllWindows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.created;
  }
  readonly webContents = new FakeWebContents();
  loadedUrl: string | null = null;
  shown = false;
  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeBrowserWindow.created.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
    this.webContents.mainFrame.url = url;
    return Promise.resolve();
  }
  show(): void {
    this.shown = true;
  }
  hide(): void {
    this.shown = false;
  }
  isDestroyed(): boolean {
    return false;
  }
  minimized = false;
  focused = 0;
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  focus(): void {
    this.focused += 1;
  }
}

export function fakeShell() {
  const opened: string[] = [];
  return { opened, openExternal: (url: string) => (opened.push(url), Promise.resolve()) };
}

/** A navigation event whose default action can be prevented. */
export function navigationEvent() {
  return {
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
}

/** A nativeImage that remembers the file it came from. */
export class FakeImage {
  constructor(readonly path: string) {}
}

export const fakeNativeImage = { createFromPath: (path: string) => new FakeImage(path) };

/** Menu.buildFromTemplate keeps the template, so a test can read and click its items. */
export const FakeMenu = {
  buildFromTemplate: (template: MenuItemConstructorOptions[]) => ({ template }),
};

export class FakeTray extends FakeEmitter {
  static readonly created: FakeTray[] = [];
  image: FakeImage;
  readonly images: FakeImage[] = [];
  toolTip = '';
  /** Every menu set, in order: the last is what the owner sees. */
  readonly menus: { template: MenuItemConstructorOptions[] }[] = [];
  destroyed = false;
  constructor(image: FakeImage) {
    super();
    this.image = image;
    this.images.push(image);
    FakeTray.created.push(this);
  }
  setImage(image: FakeImage): void {
    this.image = image;
    this.images.push(image);
  }
  setToolTip(text: string): void {
    this.toolTip = text;
  }
  setContextMenu(menu: { template: MenuItemConstructorOptions[] }): void {
    this.menus.push(menu);
  }
  destroy(): void {
    this.destroyed = true;
  }
  get menu(): MenuItemConstructorOptions[] {
    return this.menus.at(-1)?.template ?? [];
  }
}

export class FakeNotification extends FakeEmitter {
  static readonly created: FakeNotification[] = [];
  static supported = true;
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  shown = false;
  closed = false;
  constructor(readonly options: NotificationConstructorOptions) {
    super();
    FakeNotification.created.push(this);
  }
  show(): void {
    this.shown = true;
  }
  close(): void {
    this.closed = true;
  }
}
