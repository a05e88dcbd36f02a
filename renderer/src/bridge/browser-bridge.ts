// Browser mode's stand-in for the preload: builds window.hearth over a WebSocket. The
// per-run token arrives in the URL fragment (never sent to a server in a request line),
// is kept for reloads in sessionStorage, and is removed from the address bar.
import { buildHearthApi } from '../../../shared/hearth-api';
import { createWsTransport } from './ws-transport';

const TOKEN_KEY = 'hearth.browserModeToken';

export function installBrowserBridge(): void {
  if ((window as Partial<Window>).hearth) return; // Electron's preload already did it.
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get('token') ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
  if (fragment.has('token')) {
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  const url = new URL('/ipc', window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', token);
  const socket = new WebSocket(url);
  Object.defineProperty(window, 'hearth', {
    value: Object.freeze(buildHearthApi(createWsTransport(socket))),
    enumerable: true,
  });
}
