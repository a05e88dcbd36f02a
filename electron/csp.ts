// The one Content-Security-Policy for the renderer, served by both shells: the app's own
// scripts and styles only, nothing inline, no plugins, no frames, no remote anything.
export interface CspOptions {
  /** Extra sources the page may connect to (browser mode's WebSocket, the dev server). */
  connect?: string[];
  /** Vite's dev server injects inline styles for hot reload; only in `npm start`. */
  devInlineStyles?: boolean;
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': options.devInlineStyles ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'", ...(options.connect ?? [])],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}
