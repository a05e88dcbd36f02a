// The QEMU launcher: <appDir>/run (what hearth-app@<app>.service runs), <appDir>/qmp (one QMP
// command to the running VM: pause/resume for backups, graceful power-off) and <appDir>/stop
// (systemd's ExecStop). Everything from the spec is validated first and single-quoted, so no
// value can become shell code.
import { validateLaunchSpec, LaunchSpecError } from './launch-spec';
import type { LaunchSpec } from './launch-spec';
import { qmpCommand, qmpCommands } from './qmp-command';
import { shellExec, shellQuote } from '../device/shell-quote';

export { qmpCommand } from './qmp-command';

export const consoleLogName = 'console.log';
export const qmpSocketName = 'qmp.sock';
/** The console log is cut back to its last 1 MiB at start once it has grown past 8 MiB. */
export const consoleLogMaxBytes = 8 * 1024 * 1024;
export const consoleLogKeepBytes = 1024 * 1024;

export const consoleLogPath = (spec: Pick<LaunchSpec, 'appDir'>): string =>
  `${spec.appDir}/${consoleLogName}`;
export const qmpSocketPath = (spec: Pick<LaunchSpec, 'appDir'>): string =>
  `${spec.appDir}/${qmpSocketName}`;

/**
 * CPU model per architecture and accelerator.
 * - x86_64: QEMU's default model under both TCG and KVM. Never `-cpu host`: on these nested
 *   machines it aborts (LAB.md, "failed to set MSR 0x10a"); `-cpu max` under KVM could not be
 *   verified here (KVM never boots a guest on this machine), so it is not used either. The
 *   default model is what every lab boot has used.
 * - aarch64: `virt` has no default CPU worth using; cortex-a53 matches the Raspberry Pi 3/Zero 2
 *   and is emulated by TCG everywhere. Under KVM on Arm the vCPU must match the host, which
 *   `max` does there (it is the same as host under KVM on Arm, without x86's MSR problem).
 */
function machineArgs(spec: LaunchSpec): string[] {
  if (spec.arch === 'x86_64') return [];
  return ['-M', 'virt', '-cpu', spec.accel === 'kvm' ? 'max' : 'cortex-a53'];
}

function driveArgs(spec: LaunchSpec): string[] {
  if (spec.disk === 'ide') {
    // The aarch64 virt board has no IDE controller; an image that wants IDE is an x86 image.
    if (spec.arch !== 'x86_64' && spec.volumes.length > 0)
      throw new LaunchSpecError('IDE disks exist only on x86_64; this image needs virtio disks');
    // Legacy IDE: the counter kernel drives the primary channel's first disk with PIO.
    if (spec.volumes.length > 4)
      throw new LaunchSpecError('an IDE machine has room for at most 4 disks');
    return spec.volumes.flatMap((v, i) => [
      '-drive',
      `file=${v.path},format=raw,if=ide,index=${i}`,
    ]);
  }
  return spec.volumes.flatMap((v, i) => [
    '-drive',
    `if=none,id=v${i},file=${v.path},format=raw`,
    '-device',
    `virtio-blk-pci,drive=v${i}`,
  ]);
}

function networkArgs(spec: LaunchSpec): string[] {
  if (spec.ports.length === 0) return [];
  // User-mode networking: no bridge or tap to set up on the device, and each forward listens
  // on every address of the device (0.0.0.0), so the laptop reaches http://device.local:HOST.
  // An app that sleeps when idle listens on loopback at its internal port instead: systemd holds
  // the published one and hands each visit over (device/sleep-units.ts).
  const forwards = spec.ports.map((p) =>
    p.internal === undefined
      ? `hostfwd=${p.protocol}:0.0.0.0:${p.host}-:${p.guest}`
      : `hostfwd=${p.protocol}:127.0.0.1:${p.internal}-:${p.guest}`,
  );
  return [
    '-netdev',
    ['user', 'id=n0', ...forwards].join(','),
    // romfile= (empty): no iPXE option ROM; the guest boots from -kernel, never from the network,
    // and Debian's qemu-system-x86 does not always ship the ROM.
    '-device',
    'virtio-net-pci,netdev=n0,romfile=',
  ];
}

/** The full QEMU argv for a spec (validated). */
export function qemuArgv(spec: LaunchSpec): string[] {
  validateLaunchSpec(spec);
  return [
    `qemu-system-${spec.arch}`,
    '-name',
    `hearth-${spec.appId}`,
    ...machineArgs(spec),
    '-accel',
    spec.accel,
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    '-display',
    'none',
    // A guest reboot or triple fault ends QEMU, so systemd sees it and applies its restart policy
    // (with backoff and a limit) instead of QEMU rebooting a crash loop forever.
    '-no-reboot',
    // seccomp (QEMU's own filter, under the unit's NoNewPrivileges): no obsolete system calls, no
    // changing user or group, no fork or exec, no scheduler or CPU-affinity changes. A unikernel's
    // QEMU needs none of them (user-mode networking runs inside QEMU's process), and one broken
    // out of its guest then cannot start a program. Checked with Debian 12's QEMU 7.2 and Debian
    // 11's 5.2 on the lab (e2e/specs/device-hardening.spec.ts).
    '-sandbox',
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-m',
    String(spec.memoryMiB),
    '-kernel',
    spec.kernelPath,
    ...(spec.initrdPath ? ['-initrd', spec.initrdPath] : []),
    ...(spec.bootArgs ? ['-append', spec.bootArgs] : []),
    // append=on: the console view keeps earlier boots (the run script marks each one).
    '-chardev',
    `file,id=console,path=${consoleLogPath(spec)},append=on`,
    '-serial',
    'chardev:console',
    '-qmp',
    `unix:${qmpSocketPath(spec)},server=on,wait=off`,
    ...driveArgs(spec),
    ...networkArgs(spec),
    // x86 unikernels (the counter kernel) end QEMU through port 0xf4 to report a crash: QEMU
    // exits with (value << 1) | 1, which systemd counts as a failure.
    ...(spec.arch === 'x86_64' ? ['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'] : []),
  ];
}

function header(spec: LaunchSpec, what: string): string {
  return [
    '#!/bin/sh',
    `# ${what} for Hearth app ${spec.appId}.`,
    '# Generated by Hearth; it is rewritten on every deploy, so do not edit it here.',
  ].join('\n');
}

/**
 * The start of every runtime's <appDir>/run: into the app folder, $log set, the console log
 * cut back when it has grown (it is appended to across boots, so it cannot fill the device).
 */
export function consoleLogPrologue(spec: LaunchSpec, what: string): string {
  return `${header(spec, what)}
set -eu
cd ${shellQuote(spec.appDir)}
log=${shellQuote(consoleLogPath(spec))}
# The log is appended to across boots; cut it back at start so it cannot fill the device.
if [ -f "$log" ] && [ "$(wc -c < "$log")" -gt ${consoleLogMaxBytes} ]; then
  tail -c ${consoleLogKeepBytes} "$log" > "$log.tmp" && mv "$log.tmp" "$log"
fi
# Each boot is marked, so the console view can tell boots apart.
printf '%s\\n' "--- hearth: starting ${spec.appId} at $(date -u +%Y-%m-%dT%H:%M:%SZ) ---" >> "$log"`;
}

/** Content of <appDir>/run: keeps the console log bounded, marks the boot in it, execs QEMU. */
export function qemuRunScript(spec: LaunchSpec): string {
  const argv = qemuArgv(spec);
  return `${consoleLogPrologue(spec, 'Starts QEMU')}
# A socket left by a QEMU that was killed would make the next QMP client talk to nobody.
rm -f ${shellQuote(qmpSocketPath(spec))}
# exec: QEMU becomes the service's main process, so systemd sees its exit status directly.
${shellExec(argv)}
`;
}

// A tiny QMP client in Perl: perl-base is Essential in Debian (and so in Raspberry Pi OS) and
// ships IO::Socket::UNIX, while socat is not installed by default, busybox nc may lack unix
// sockets and python3 is not guaranteed. It reads the greeting, sends the lines given as
// arguments (one JSON object each) and prints the last reply; events in between are skipped. No single quotes inside:
// it is embedded in single quotes.
const perlQmpClient = [
  'use strict; use IO::Socket::UNIX;',
  'my $path = shift @ARGV;',
  '$SIG{ALRM} = sub { print STDERR "qmp: QEMU did not answer\\n"; exit 3 }; alarm 10;',
  'my $s = IO::Socket::UNIX->new(Peer => $path) or do { print STDERR "qmp: cannot reach $path: $!\\n"; exit 4 };',
  '$s->autoflush(1); my $greeting = <$s>;',
  'defined $greeting or do { print STDERR "qmp: QEMU closed the connection\\n"; exit 5 };',
  'my $reply = "";',
  'for my $line (@ARGV) { print $s "$line\\n";',
  '  while (1) { my $l = <$s>; defined $l or do { print STDERR "qmp: QEMU closed the connection\\n"; exit 5 };',
  '    next if $l =~ /"event"/; $reply = $l; last } }',
  'print $reply; exit($reply =~ /"error"/ ? 1 : 0);',
].join(' ');

/** Content of <appDir>/qmp: `qmp stop|cont|system_powerdown|quit|query-status`. */
export function qmpScript(spec: LaunchSpec): string {
  validateLaunchSpec(spec);
  const cases = qmpCommands
    .map((c) => {
      const [negotiate = '', command = ''] = qmpCommand(c).split('\n');
      return `  ${c}) set -- ${shellQuote(negotiate)} ${shellQuote(command)} ;;`;
    })
    .join('\n');
  return `${header(spec, 'Sends one QMP command to the running VM')}
# Used by the stop script and by Hearth (pause/resume around a backup).
set -eu
case "\${1:-}" in
${cases}
  *) echo "usage: $0 ${qmpCommands.join('|')}" >&2; exit 2 ;;
esac
exec perl -e '${perlQmpClient}' ${shellQuote(qmpSocketPath(spec))} "$@"
`;
}

/**
 * Content of <appDir>/stop, systemd's ExecStop for the app.
 *
 * Why an ExecStop at all: without one systemd sends SIGTERM to QEMU, which QEMU handles by
 * exiting at once. Its own disk caches are flushed, but for the guest it is a power cut. So
 * first ask the guest to shut down (ACPI power button, `system_powerdown`) and wait up to
 * `timeoutS`; a guest that ignores it (unikernels without ACPI, like the counter kernel) is
 * then ended with QMP `quit`, a clean QEMU exit. If even that fails, systemd's SIGTERM and
 * SIGKILL after TimeoutStopSec (which must be longer than timeoutS + 15 s) still end it.
 * "Still running" is asked over QMP rather than by PID: the socket answers exactly as long as
 * this app's QEMU runs, also when the script is run by hand.
 */
export function stopScript(spec: LaunchSpec, timeoutS: number): string {
  validateLaunchSpec(spec);
  if (!Number.isInteger(timeoutS) || timeoutS < 0 || timeoutS > 3600)
    throw new LaunchSpecError('the stop timeout must be 0 to 3600 seconds');
  const qmp = shellQuote(`${spec.appDir}/qmp`);
  return `${header(spec, 'Stops QEMU gracefully (systemd ExecStop)')}
set -u
running() { ${qmp} query-status >/dev/null 2>&1; }
running || exit 0
${qmp} system_powerdown >/dev/null 2>&1 || true
i=0
while running && [ "$i" -lt ${timeoutS} ]; do
  sleep 1
  i=$((i + 1))
done
if running; then
  echo "hearth: ${spec.appId} did not power off within ${timeoutS}s; ending QEMU" >&2
  ${qmp} quit >/dev/null 2>&1 || true
fi
exit 0
`;
}
