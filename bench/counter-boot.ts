// Shared by the install and start-to-READY rows: the QEMU command Hearth's launcher runs for
// an installed app, rebuilt from the device's spec.json the way the installer builds it, and
// device-side shell that times "start → READY on the serial console" the same way for
// Hearth's launcher and for that command run by hand.
import type { AppSpec } from '../electron/services/apps/app-spec';
import { appPaths, appUnit } from '../electron/services/device/layout';
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

/** Polls until `check` (sh) succeeds or `timeoutS` passes; prints `us=N` since t0. */
function waitLoop(check: string, timeoutS: number, alive = 'true'): string {
  const tries = Math.ceil(timeoutS / Number(POLL_S));
  return `i=0
until ${check}; do
  ${alive} || { echo "QEMU ended before READY" >&2; exit 1; }
  i=$((i + 1)); [ "$i" -lt ${tries} ] || { echo "no READY within ${timeoutS}s" >&2; exit 1; }
  sleep ${POLL_S}
done
t1=$(date +%s%N)
echo "us=$(( (t1 - t0) / 1000 ))"`;
}

/**
 * sh that boots `spec` (a scratch app folder) by hand: prepares the folder and its volumes
 * (copies of `copyVolumesFrom`, or new sparse files of the catalog's size), then times QEMU
 * from its exec to READY on its serial log, and stops it.
 */
export function handBootScript(
  spec: LaunchSpec,
  volumes: AppSpec['volumes'],
  opts: { pattern: string; timeoutS: number; copyVolumesFrom?: string },
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
${shellCommand(qemuArgv(spec))} </dev/null >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
${waitLoop(`tail -c +1 ${log} 2>/dev/null | grep -qF -- ${shellQuote(opts.pattern)}`, opts.timeoutS, 'kill -0 $pid 2>/dev/null')}
kill $pid; wait $pid 2>/dev/null || true
trap - EXIT
rm -rf ${dir}
`;
}

/**
 * sh (as root) that times `systemctl start hearth-app@APP` to READY in the app's console log,
 * counting only bytes written after the start (the new boot: its run script's
 * "--- hearth: starting" marker comes first), then ends QEMU over its QMP socket (a clean exit,
 * so systemd does not restart it) instead of waiting out the graceful power-off window.
 */
export function launcherStartScript(
  spec: LaunchSpec,
  opts: { pattern: string; timeoutS: number },
): string {
  const unit = shellQuote(appUnit(spec.appId));
  const log = shellQuote(consoleLogPath(spec));
  return `set -eu
systemctl reset-failed ${unit} 2>/dev/null || true
! systemctl is-active --quiet ${unit} || { echo "the app is already running" >&2; exit 1; }
off=$(stat -c %s ${log} 2>/dev/null || echo 0)
# The run script trims a log past 8 MiB at start, which would move the offset.
[ "$off" -lt 8000000 ] || { echo "the console log is about to be trimmed" >&2; exit 1; }
t0=$(date +%s%N)
systemctl start ${unit}
${waitLoop(`tail -c +$((off + 1)) ${log} 2>/dev/null | grep -qF -- ${shellQuote(opts.pattern)}`, opts.timeoutS)}
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
