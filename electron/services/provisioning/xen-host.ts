// What a Xen host needs beyond other devices: app units that run as root (device-files.ts,
// xenUnitDropIn) and xenconsoled keeping each guest's console in /var/log/xen/console, where the
// Xen run script (runtimes/xen-config.ts) picks it up for the app's console.log.
//
// Where xenconsoled takes that setting from depends on who packaged Xen:
// - Debian and Ubuntu (xen-utils-common; read from Debian 12's package, Xen 4.17): the init
//   script /etc/init.d/xen, run by systemd as xen.service, sources /etc/default/xen (upstream's
//   xencommons file, renamed) and starts xenconsoled with $XENCONSOLED_ARGS only. It ignores
//   XENCONSOLED_TRACE, although that file's comments still mention it.
// - Upstream's systemd units (a Xen built from source): xenconsoled.service reads
//   XENCONSOLED_TRACE from /etc/default/xencommons (EnvironmentFile) and passes --log=$TRACE.
// Either way Hearth changes one setting and keeps every other line of the owner's file.
import type { RemoteShell } from '../device/root-shell';
import {
  xenBackupDropIn,
  xenBackupDropInPath,
  xenUnitDropIn,
  xenUnitDropInPath,
} from './device-files';

import type { XenConsoleFlavour } from '../device/prepare-commands';
import {
  prepareCommands,
  restartXenconsoledScript,
  xenConsoleFlavourScript,
  xenConsoleSettingsFile,
} from '../device/prepare-commands';

const LOGS_GUESTS = new Set(['guest', 'all']);
/** What to ask for instead of `current` so guests are logged and nothing logged before is lost. */
const withGuests = (current: string | undefined): string => (current === 'hv' ? 'all' : 'guest');

function unquote(value: string): string {
  const v = value.trim();
  const quoted = /^"([^"]*)"$|^'([^']*)'$/.exec(v);
  return quoted ? (quoted[1] ?? quoted[2] ?? '') : v;
}

function lastAssignment(lines: string[], name: string): { index: number; value: string } | null {
  const pattern = new RegExp(`^[ \\t]*(?:export[ \\t]+)?${name}=(.*)$`);
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = pattern.exec(lines[i] ?? '');
    if (match) return { index: i, value: match[1] ?? '' };
  }
  return null;
}

function appended(text: string, line: string): string {
  const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${base}# Added by Hearth: keep each guest's console in /var/log/xen/console, for Hearth's console view.\n${line}\n`;
}

/** The last --log of an xenconsoled argument list (`--log=X` or `--log X`), if any. */
function logOption(tokens: string[]): { index: number; width: number; value: string } | null {
  let found: { index: number; width: number; value: string } | null = null;
  tokens.forEach((token, index) => {
    if (token.startsWith('--log=')) found = { index, width: 1, value: token.slice(6) };
    else if (token === '--log') found = { index, width: 2, value: tokens[index + 1] ?? '' };
  });
  return found;
}

/**
 * The settings file with guest console logging on; the very same text when it already is, so
 * a second provisioning changes nothing. Only the one setting is touched.
 */
export function withGuestConsoleLog(text: string, flavour: XenConsoleFlavour): string {
  const lines = text.split('\n');
  if (flavour === 'upstream') {
    const trace = lastAssignment(lines, 'XENCONSOLED_TRACE');
    if (!trace) return appended(text, 'XENCONSOLED_TRACE=guest');
    const current = unquote(trace.value);
    if (LOGS_GUESTS.has(current)) return text;
    lines[trace.index] = `XENCONSOLED_TRACE=${withGuests(current)}`;
    return lines.join('\n');
  }
  const args = lastAssignment(lines, 'XENCONSOLED_ARGS');
  if (!args) return appended(text, 'XENCONSOLED_ARGS="--log=guest"');
  const value = unquote(args.value);
  if (!/^[A-Za-z0-9_=.,:/ +-]*$/.test(value)) {
    // Quotes, variables or substitutions: not rewritten in place, but extended after it (the
    // init script word-splits the value, and xenconsoled takes the last --log it is given).
    const said = [...args.value.matchAll(/--log[= ]+([a-z]+)/g)].at(-1)?.[1];
    if (said && LOGS_GUESTS.has(said)) return text;
    return appended(text, `XENCONSOLED_ARGS="$XENCONSOLED_ARGS --log=${withGuests(said)}"`);
  }
  const tokens = value.split(/\s+/).filter(Boolean);
  const log = logOption(tokens);
  if (log && LOGS_GUESTS.has(log.value)) return text;
  if (log) tokens.splice(log.index, log.width, `--log=${withGuests(log.value)}`);
  else tokens.push('--log=guest');
  lines[args.index] = `XENCONSOLED_ARGS="${tokens.join(' ')}"`;
  return lines.join('\n');
}

export type XenConsoleOutcome =
  { kind: 'changed' | 'unchanged'; flavour: XenConsoleFlavour } | { kind: 'unknown' };

/** Turns on guest console logging, restarting xenconsoled only when the setting changed. */
export async function ensureXenConsoleLogging(shell: RemoteShell): Promise<XenConsoleOutcome> {
  const flavour = (
    await shell.checkAsRoot(xenConsoleFlavourScript, "find Xen's console service")
  ).trim();
  if (flavour !== 'debian' && flavour !== 'upstream') return { kind: 'unknown' };
  const path = xenConsoleSettingsFile[flavour];
  const file = await shell.asRoot(prepareCommands.readFile(path));
  const text = file.code === 0 ? file.stdout : '';
  // Bytes that are not UTF-8 would not survive the round trip through a string.
  if (text.includes('\uFFFD')) return { kind: 'unknown' };
  const wanted = withGuestConsoleLog(text, flavour);
  if (wanted === text && file.code === 0) return { kind: 'unchanged', flavour };
  const stat = (await shell.asRoot(prepareCommands.modeAndOwner(path))).stdout.trim();
  const kept = /^([0-7]{3,4}) ([a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*)$/.exec(stat);
  const changed = await shell.ensureFile(
    path,
    wanted,
    kept ? `0${kept[1]}` : '0644',
    kept?.[2] ?? 'root:root',
  );
  if (!changed) return { kind: 'unchanged', flavour };
  await shell.checkAsRoot(restartXenconsoledScript(flavour), "restart Xen's console service");
  return { kind: 'changed', flavour };
}

/**
 * Puts the root drop-ins (the app units', the backup unit's) in place on a Xen host and makes
 * sure they are absent anywhere else (a device that stopped being a Xen host must not keep
 * running apps as root). True when something changed, so the caller reloads systemd.
 */
export async function ensureXenUnitDropIn(shell: RemoteShell, xen: boolean): Promise<boolean> {
  let changed = false;
  for (const [path, content] of [
    [xenUnitDropInPath, xenUnitDropIn()],
    [xenBackupDropInPath, xenBackupDropIn()],
  ] as const) {
    if (xen) {
      changed = (await shell.ensureFile(path, content, '0644', 'root:root')) || changed;
      continue;
    }
    if ((await shell.asRoot(prepareCommands.presentOrLink(path))).code !== 0) continue;
    await shell.checkAsRoot(
      prepareCommands.removeFileAndEmptyFolder(path),
      "remove Hearth's Xen service settings",
    );
    changed = true;
  }
  return changed;
}
