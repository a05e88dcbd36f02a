// Shared by the install, start-to-READY and boot rows: the QEMU command Hearth's launcher runs
// for an installed app, rebuilt from the device's spec.json the way the installer builds it,
// and device-side shell that times "start → a line on the serial console" the same way for
// Hearth's launcher and for that command run by hand.
import type { AppSpec } from '../electron/services/apps/app-spec';
import { agentCommand } from '../electron/services/device/agent-protocol';
import { HEARTH_USER, appPaths, appUnit } from '../electron/services/device/layout';
import type { LaunchSpec } from '../electron/services/runtimes/launch-spec';
import { consoleLogPath, qemuArgv } from '../electron/services/runtimes/qemu-launcher';
import { shellCommand, shellExec, shellQuote } from '../electron/services/device/shell-quote';

/** How often the device-side loops look for READY (the same for every measured side). */
const POLL_S = '0.005';

/**
 * The launch spec the installer writes for `spec` (see writeAppFiles in app-installer.ts),
 * with the app folder, kernel and volumes optionally moved elsewhere (a scratch copy).
 */
export function launchSpecFor(
  spec: AppSpec,
  arch: 'x86_64' | 'aarch64',
  where: { appDir?: string; kernelPath?: string } = {},
): LaunchSpec {
  const realDir = appPaths(spec.appId).dir;
  const appDir = where.appDir ?? realDir;
  return {
    appId: spec.appId,
    appDir,
    arch,
    kernelPath: where.kernelPath ?? `${realDir}/current`,
    ...(spec.initrdSha256 ? { initrdPath: `${realDir}/images/${spec.initrdSha256}` } : {}),
    memoryMiB: spec.memoryMiB,
    volumes: spec.volumes.map((v) => ({ name: v.name, path: `${appDir}/data/${v.name}.img` })),
    disk: spec.disk,
    ports: spec.ports.map(({ name, guest, host, protocol }) => ({ name, guest, host, protocol })),
    bootArgs: spec.bootArgs,
    accel: spec.accel,
  };
}

/**
 * Throws unless the device's generated `run` script execs exactly the argv rebuilt here, so
 * "the same QEMU command by hand" really is the same command.
 */
export function assertSameCommand(runScript: string, spec: LaunchSpec): void {
  if (!runScript.includes(shellExec(qemuArgv(spec))))
    throw new Error(
      `the device's run script does not exec the QEMU command rebuilt from spec.json:\n${runScript}`,
    );
}

/**
 * What a timing waits for on the console: a line containing `pattern` (READY), or the image's
 * first line: the first whole line that is neither the run script's "--- hearth: starting"
 * marker nor SeaBIOS's banner (its "Booting from ROM.." has no newline, so the kernel's first
 * line completes the line it starts).
 */
export type ConsoleUntil = { pattern: string } | 'first-line';

/** Lines of the console that are not the image's own (the launcher's marker, the firmware's). */
const notTheImage = ['--- hearth: starting ', 'SeaBIOS (version '];

/** sh that succeeds once the console log, from byte `from` (sh arithmetic) on, shows `until`. */
function consoleShows(log: string, from: string, until: ConsoleUntil): string {
  const tail = `tail -c +${from} ${log} 2>/dev/null`;
  if (until !== 'first-line') return `${tail} | grep -qF -- ${shellQuote(until.pattern)}`;
  const skip = notTheImage.map((l) => `-e ${shellQuote(l)}`).join(' ');
  // Whole lines (newlines) beyond the ones that are not the image's.
  return `[ $(( $(${tail} | tr -cd '\\n' | wc -c) - $(${tail} | grep -acF ${skip}) )) -ge 1 ]`;
}

const untilName = (until: ConsoleUntil) =>
  until === 'first-line' ? 'a first console line' : until.pattern;

/** Polls until `check` (sh) succeeds or `timeoutS` passes; prints `us=N` since t0. */
function waitLoop(check: string, what: string, timeoutS: number, alive = 'true'): string {
  const tries = Math.ceil(timeoutS / Number(POLL_S));
  return `i=0
until ${check}; do
  ${alive} || { echo "QEMU ended before ${what}" >&2; exit 1; }
  i=$((i + 1)); [ "$i" -lt ${tries} ] || { echo "no ${what} within ${timeoutS}s" >&2; exit 1; }
  sleep ${POLL_S}
done
t1=$(date +%s%N)
echo "us=$(( (t1 - t0) / 1000 ))"`;
}

/** QEMU's argv for `spec`, with the firmware replaced by `bios` (such as qboot) when given. */
function handArgv(spec: LaunchSpec, bios?: string): string[] {
  const argv = qemuArgv(spec);
  if (!bios) return argv;
  const at = argv.indexOf('-kernel');
  return [...argv.slice(0, at), '-bios', bios, ...argv.slice(at)];
}

/**
 * sh that boots `spec` (a scratch app folder) by hand: prepares the folder and its volumes
 * (copies of `copyVolumesFrom`, or new sparse files of the catalog's size), then times QEMU
 * from its exec to `until` on its serial log, and stops it. `bios` swaps the firmware (only
 * ever by hand: the launcher's command is what the other side of every row runs).
 */
export function handBootScript(
  spec: LaunchSpec,
  volumes: AppSpec['volumes'],
  opts: { until: ConsoleUntil; timeoutS: number; copyVolumesFrom?: string; bios?: string },
): string {
  const dir = shellQuote(spec.appDir);
  const prepare = volumes
    .map((v) => {
      const target = shellQuote(`${spec.appDir}/data/${v.name}.img`);
      return opts.copyVolumesFrom
        ? `cp --sparse=always ${shellQuote(`${opts.copyVolumesFrom}/${v.name}.img`)} ${target}`
        : `truncate -s ${v.sizeMiB}M ${target}`;
    })
    .join('\n');
  const log = shellQuote(consoleLogPath(spec));
  return `set -eu
rm -rf ${dir}
mkdir -p ${dir}/data
${prepare}
t0=$(date +%s%N)
${shellCommand(handArgv(spec, opts.bios))} </dev/null >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
${waitLoop(consoleShows(log, '1', opts.until), untilName(opts.until), opts.timeoutS, 'kill -0 $pid 2>/dev/null')}
kill $pid; wait $pid 2>/dev/null || true
trap - EXIT
rm -rf ${dir}
`;
}

/**
 * sh (as root) that times the start of `hearth-app@APP` to `until` in the app's console log,
 * counting only bytes written after the start (the new boot: its run script's
 * "--- hearth: starting" marker comes first), then ends QEMU over its QMP socket (a clean exit,
 * so systemd does not restart it) instead of waiting out the graceful power-off window. The
 * start is `systemctl start` as root, or (`via: 'agent'`) the root agent's `start` run as the
 * hearth account, as Hearth's Start button does over SSH.
 */
export function launcherStartScript(
  spec: LaunchSpec,
  opts: { until: ConsoleUntil; timeoutS: number; via?: 'systemctl' | 'agent' },
): string {
  const unit = shellQuote(appUnit(spec.appId));
  const log = shellQuote(consoleLogPath(spec));
  const start =
    opts.via === 'agent'
      ? `runuser -u ${HEARTH_USER} -- ${agentCommand('start', spec.appId)}`
      : `systemctl start ${unit}`;
  return `set -eu
systemctl reset-failed ${unit} 2>/dev/null || true
! systemctl is-active --quiet ${unit} || { echo "the app is already running" >&2; exit 1; }
off=$(stat -c %s ${log} 2>/dev/null || echo 0)
# The run script trims a log past 8 MiB at start, which would move the offset.
[ "$off" -lt 8000000 ] || { echo "the console log is about to be trimmed" >&2; exit 1; }
t0=$(date +%s%N)
${start}
${waitLoop(consoleShows(log, '$((off + 1))', opts.until), untilName(opts.until), opts.timeoutS)}
${shellQuote(`${spec.appDir}/qmp`)} quit >/dev/null 2>&1 || true
systemctl stop ${unit}
systemctl reset-failed ${unit} 2>/dev/null || true
`;
}

/** Milliseconds from a script's `us=N` line. */
export function parseMicros(stdout: string): number {
  const m = /^us=(\d+)$/m.exec(stdout);
  if (!m) throw new Error(`no timing in ${JSON.stringify(stdout)}`);
  return Number(m[1]) / 1000;
}
