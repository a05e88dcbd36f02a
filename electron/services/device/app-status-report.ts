// The state of every app on a device, in one command per refresh. The device runs a
// small script as the hearth account; the laptop parses its key=value output defensively
// (the device is not trusted: unknown keys are ignored, values are bounded).
import { isAppId } from '../../../shared/ids';
import { xenMac } from '../runtimes/xen-config';
import { appUnitInShell, deviceLayout, sleepUnitInShell } from './layout';

/** Written before each boot by the launcher, so health is judged on this boot's output. */
export const BOOT_MARKER = '--- hearth: starting';

export const statusScript = `cd ${deviceLayout.appsDir} 2>/dev/null || exit 0
for a in *; do
  [ -f "$a/spec.json" ] || continue
  echo "@app $a"
  echo "Spec=$(head -c 8192 "$a/spec.json" | tr -d '\n')"
  # systemd before 248 (Debian 11) has no --timestamp: its start time is then not reported.
  systemctl show --timestamp=unix -p ActiveState -p SubState -p Result -p NRestarts -p ExecMainStartTimestamp -p MemoryCurrent -p UnitFileState ${appUnitInShell('"$a"')} 2>/dev/null ||
    systemctl show -p ActiveState -p SubState -p Result -p NRestarts -p MemoryCurrent -p UnitFileState ${appUnitInShell('"$a"')}
  # Sleeping when idle (sleep-units.ts): one of its sockets listens for the first visit.
  if [ -s "$a/sleep" ] && [ -n "$(systemctl list-units --plain --no-legend --state=listening ${sleepUnitInShell('"$a"', '*', 'socket')} 2>/dev/null | head -n 1)" ]; then echo "Sleeping=yes"; fi
  pat=$(head -c 200 "$a/health-pattern" 2>/dev/null || true)
  if [ -n "$pat" ] && [ -f "$a/console.log" ]; then
    line=$(grep -n '^${BOOT_MARKER}' "$a/console.log" | tail -n 1 | cut -d: -f1)
    if tail -n +"\${line:-1}" "$a/console.log" | grep -qF -- "$pat"; then echo "Healthy=yes"; else echo "Healthy=no"; fi
  fi
  if head -c 8192 "$a/spec.json" | grep -q '"target": *"xen-'; then xen=1; fi
done
# A Xen guest joins the LAN through the bridge with its own DHCP address: the laptop finds it
# by the guest's MAC in dom0's neighbour table (known once dom0 and the guest have talked).
if [ -n "\${xen:-}" ]; then
  echo "@neigh"
  ip -4 neigh show 2>/dev/null | head -n 1024
fi
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
  /** "Sleep when idle" is on and its sockets listen: inactive means asleep, not stopped. */
  sleeping?: boolean;
  /** spec.json as the device holds it (parsed later, strictly). */
  specText: string;
  /**
   * Xen apps only: the guest's IPv4 address on the LAN, from dom0's neighbour table by the
   * guest's MAC; null when unknown (or not a Xen app).
   */
  guestAddress: string | null;
}

/** `deviceId`: the device that answered (Xen guests' MACs derive from it). */
export function parseStatus(output: string, deviceId = ''): RawAppStatus[] {
  const apps: RawAppStatus[] = [];
  let current: RawAppStatus | null = null;
  const neighbours: string[] = [];
  let inNeighbours = false;
  for (const raw of output.split('\n').slice(0, 5000)) {
    const line = raw.trim().slice(0, 256);
    if (line === '@neigh') {
      inNeighbours = true;
      current = null;
      continue;
    }
    if (inNeighbours) {
      neighbours.push(line);
      continue;
    }
    if (line.startsWith('@app ')) {
      const id = line.slice(5);
      current = isAppId(id)
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
            sleeping: false,
            specText: '',
            guestAddress: null,
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
      case 'Sleeping':
        current.sleeping = value === 'yes';
        break;
    }
  }
  if (neighbours.length) {
    for (const app of apps)
      if (isXenSpec(app.specText))
        app.guestAddress = addressForMac(neighbours, xenMac(app.appId, deviceId));
  }
  return apps;
}

function isXenSpec(specText: string): boolean {
  try {
    const spec = JSON.parse(specText) as { target?: unknown } | null;
    return typeof spec?.target === 'string' && spec.target.startsWith('xen-');
  } catch {
    return false;
  }
}

/**
 * An IPv4 address the laptop may open and probe: a plain dotted quad (no leading zeros, which
 * some parsers read as octal) and never this laptop itself, "any", broadcast or multicast,
 * since a hostile device could otherwise aim Hearth's health probe at the laptop's own services.
 */
export function usableGuestIpv4(text: string): string | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return null;
  const octets = match.slice(1).map((part) => (/^(0|[1-9]\d*)$/.test(part) ? Number(part) : -1));
  if (octets.some((o) => o < 0 || o > 255)) return null;
  const first = octets[0] ?? 0;
  if (first === 0 || first === 127 || first >= 224) return null;
  return octets.join('.');
}

/** Better evidence first: a confirmed entry over one that may be out of date. */
const NEIGHBOUR_STATES: Record<string, number> = {
  PERMANENT: 4,
  REACHABLE: 4,
  DELAY: 3,
  PROBE: 3,
  STALE: 2,
  NOARP: 1,
};

/**
 * The address `ip -4 neigh show` lists for `mac`, e.g. from
 * `192.168.1.23 dev xenbr0 lladdr 00:16:3e:12:34:56 REACHABLE`; FAILED and INCOMPLETE entries
 * say the address no longer answers, so they count as unknown.
 */
export function addressForMac(lines: readonly string[], mac: string): string | null {
  let best: { address: string; rank: number } | null = null;
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    const at = words.indexOf('lladdr');
    if (at < 1 || words[at + 1]?.toLowerCase() !== mac.toLowerCase()) continue;
    if (words.includes('FAILED') || words.includes('INCOMPLETE')) continue;
    // The state usually ends the line, but flags and "proto X" may come around it.
    const rank = Math.max(0, ...words.map((w) => NEIGHBOUR_STATES[w] ?? 0));
    const address = usableGuestIpv4(words[0] ?? '');
    if (address && rank > 0 && rank > (best?.rank ?? 0)) best = { address, rank };
  }
  return best?.address ?? null;
}
