import type { HearthApi } from '../../shared/hearth-api';

declare global {
  interface Window {
    /** The app, as the preload (Electron) or the browser-mode bridge exposes it. */
    readonly hearth: HearthApi;
  }
}

export {};
