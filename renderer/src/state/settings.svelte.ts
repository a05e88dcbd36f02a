// The owner's settings, loaded from the app and kept in step with settings:changed
// (another window, or the tray, may change them too). Also resolves "System" to the
// OS's light or dark preference.
import type { Settings, ThemePreference } from '../../../shared/model';
import { LiveState } from './live-state.svelte';

const darkQuery = '(prefers-color-scheme: dark)';

// Used only when the app cannot tell us: show the welcome and follow the OS.
const fallback: Settings = {
  theme: 'system',
  welcomeDone: false,
  allowUnprotectedKey: false,
  startAtLogin: false,
  closeToTrayNoticeShown: false,
};

export class SettingsState extends LiveState {
  /** Null until the first answer (or failure) arrives, so nothing flashes. */
  current = $state<Settings | null>(null);
  systemDark = $state(false);

  readonly theme = $derived<ThemePreference>(this.current?.theme ?? 'system');
  readonly resolvedTheme = $derived<'light' | 'dark'>(
    this.theme === 'system' ? (this.systemDark ? 'dark' : 'light') : this.theme,
  );

  async start(): Promise<void> {
    this.listen(() => this.api.on('settings:changed', (settings) => (this.current = settings)));
    this.#followSystemTheme();
    try {
      const settings = await this.api.settings.get();
      // An event may have arrived meanwhile; it is at least as fresh as this answer.
      this.current ??= settings;
    } catch (error) {
      this.current ??= { ...fallback };
      this.notices.report(error);
    }
  }

  /**
   * Applies the change at once (the owner sees their choice), then saves it. If saving
   * fails the choice still holds for this session and the owner is told why it won't
   * be remembered.
   */
  async update(patch: Partial<Settings>): Promise<void> {
    this.current = { ...(this.current ?? fallback), ...patch };
    try {
      this.current = await this.api.settings.update(patch);
    } catch (error) {
      this.notices.report(error);
    }
  }

  #followSystemTheme(): void {
    // jsdom and some embedded browsers lack matchMedia; then "System" means light.
    if (typeof window.matchMedia !== 'function') return;
    const query = window.matchMedia(darkQuery);
    this.systemDark = query.matches;
    const onChange = (event: MediaQueryListEvent) => (this.systemDark = event.matches);
    query.addEventListener('change', onChange);
    this.onStop(() => query.removeEventListener('change', onChange));
  }
}
