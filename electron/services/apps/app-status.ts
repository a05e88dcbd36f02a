// The state of every app on a device, in one command per refresh. The device runs a
// small script as the hearth account; the laptop parses its key=value output defensively
// (the device is not trusted: unknown keys are ignored, values are bounded).
import type { AppState } from '../../../shared/model';

export const APPS_DIR = '/var/lib/hearth/apps';
/** Written before each boot by the launcher, so health is judged on this boot's output. */
export const BOOT_MARKER = '--- hearth: starting';

export const statusScript = `cd ${APPS_DIR} 2>/dev/null || exit 0
for a in *; do
  [ -f "$a/spec.json" ] || continue
  echo "@app $a"
  echo "Spec=$(head -c 8192 "$a/spec.json" | tr -d '\n')"
  systemctl show --timestamp=unix -p ActiveState -p SubState -p Result -p NRestarts -p ExecMainStartTimestamp -p MemoryCurrent -p UnitFileState "hearth-app@$a.service"
  pat=$(head -c 200 "$a/health-pattern" 2>/dev/null || true)
  if [ -n "$pat" ] && [ -f "$a/console.log" ]; then
    line=$(grep -n '^${BOOT_MARKER}' "$a/console.log" | tail -n 1 | cut -d: -f1)
    if tail -n +"\${line:-1}" "$a/console.log" | grep -qF -- "$pat"; then echo "Healthy=yes"; else echo "Healthy=no"; fi
  fi
done
`;

export interface RawAppStatus {
  appId: string;
  activeState: string;
  subState: string;
  result: string;
  restarts: number;
  startedAt: number | null;
  memoryBytes: number | null;
  enabled: boolean;
  /** From the console pattern, when the app has one; null when it has none. */
  healthy: boolean | null;
  /** spec.json as the device holds it (parsed later, strictly). */
  specText: string;
}

const APP_ID = /^[a-z][a-z0-9-]{0,31}$/;

export function parseStatus(output: string): RawAppStatus[] {
  const apps: RawAppStatus[] = [];
  let current: RawAppStatus | null = null;
  for (const raw of output.split('\n').slice(0, 5000)) {
    const line = raw.trim().slice(0, 256);
    if (line.startsWith('@app ')) {
      const id = line.slice(5);
      current = APP_ID.test(id)
        ? {
            appId: id,
            activeState: '',
            subState: '',
            result: '',
            restarts: 0,
            startedAt: null,
            memoryBytes: null,
            enabled: false,
            healthy: null,
            specText: '',
          }
        : null;
      if (current) apps.push(current);
      continue;
    }
    if (!current) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    switch (key) {
      case 'ActiveState':
        current.activeState = value.slice(0, 32);
        break;
      case 'SubState':
        current.subState = value.slice(0, 32);
        break;
      case 'Result':
        current.result = value.slice(0, 32);
        break;
      case 'NRestarts':
        current.restarts = Number.parseInt(value, 10) || 0;
        break;
      case 'ExecMainStartTimestamp': {
        const seconds = Number(value.replace(/^@/, ''));
        current.startedAt = value.startsWith('@') && seconds > 0 ? seconds * 1000 : null;
        break;
      }
      case 'MemoryCurrent': {
        const bytes = Number(value);
        current.memoryBytes = Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : null;
        break;
      }
      case 'UnitFileState':
        current.enabled = value === 'enabled';
        break;
      case 'Spec':
        current.specText = raw.trim().slice(5, 5 + 8192);
        break;
      case 'Healthy':
        current.healthy = value === 'yes';
        break;
    }
  }
  return apps;
}

export interface InterpretedState {
  state: AppState;
  message: string | null;
}

/** systemd's view plus the health probe, in the owner's words. */
export function interpret(
  status: RawAppStatus,
  name: string,
  probeHealthy: boolean | null,
): InterpretedState {
  const healthy = status.healthy ?? probeHealthy;
  switch (status.activeState) {
    case 'active':
      return { state: healthy === false ? 'starting' : 'running', message: null };
    case 'activating':
      return status.subState === 'auto-restart'
        ? { state: 'restarting', message: `${name} stopped unexpectedly and is being restarted.` }
        : { state: 'starting', message: null };
    case 'deactivating':
      return { state: 'stopping', message: null };
    case 'failed':
      // systemd's burst is 5 starts (the unit template): after 4 automatic restarts a failed
      // unit has given up, whichever Result systemd recorded for the last attempt.
      if (status.result === 'start-limit-hit' || status.restarts >= 4) {
        return {
          state: 'gave-up',
          message: `${name} kept stopping right after it started, so the device stopped trying. Its data is safe. Try starting it again; if it keeps happening, reinstall it or remove it.`,
        };
      }
      return {
        state: 'crashed',
        message: `${name} stopped unexpectedly. Its data is safe; you can start it again.`,
      };
    default:
      return { state: 'stopped', message: null };
  }
}
