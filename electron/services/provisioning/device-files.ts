// The files Hearth puts on a device (DESIGN.md, "A Hearth device"). Generated here, byte
// for byte, so a second provisioning can compare hashes and change nothing.

import { isDeviceId } from '../../../shared/ids';
import { HEARTH_USER, deviceLayout, updateRecoveryUnitOf } from '../device/layout';
import { unitSandbox } from '../device/unit-sandbox';
import { UPDATE_STATE_FILE } from '../device/update-step-script';

export { HEARTH_USER };

export interface DeviceJson {
  id: string;
  name: string;
  provisionedAt: string;
  hearthVersion: string;
}

export function deviceJson(value: DeviceJson): string {
  return `${JSON.stringify({ id: value.id, name: value.name, provisionedAt: value.provisionedAt, hearthVersion: value.hearthVersion }, null, 2)}\n`;
}

/** Reads an existing device.json; anything unexpected counts as "none" (it is rewritten). */
export function parseDeviceJson(text: string): DeviceJson | null {
  try {
    const value = JSON.parse(text) as Partial<DeviceJson>;
    if (typeof value.id !== 'string' || !isDeviceId(value.id)) return null;
    if (typeof value.provisionedAt !== 'string' || typeof value.name !== 'string') return null;
    return {
      id: value.id,
      name: value.name.slice(0, 64),
      provisionedAt: value.provisionedAt,
      hearthVersion: String(value.hearthVersion ?? ''),
    };
  } catch {
    return null;
  }
}

/**
 * Least privilege: the hearth account may run Hearth's root agent and nothing else as root. One
 * command, no wildcard and no argument pattern, so it means the same on every sudo version (a
 * wildcard such as `systemctl start hearth-app@*` also matches `hearth-app@x ssh.service` on
 * sudo before 1.9.10, Debian 11's included); the agent checks its verb and app id itself.
 * Hearth's own files in its state folder need no root at all.
 */
export function sudoersDropIn(): string {
  return [
    "# Managed by Hearth: the hearth account may run Hearth's agent as root, nothing else.",
    `${HEARTH_USER} ALL=(root) NOPASSWD: ${deviceLayout.agent}`,
    '',
  ].join('\n');
}

/** The app unit's sandbox: its own folder writable, nothing else (unit-sandbox.ts). */
const appSandbox = unitSandbox(`${deviceLayout.appsDir}/%i`);
const recoveryUnit = updateRecoveryUnitOf('%i');

/**
 * Before every start of an app: an update the device lost power in the middle of is settled
 * (the old version back, or the commit finished; update-step-script.ts), as the hearth account
 * in the app's sandbox. A unit of its own rather than an ExecStartPre of the app's, so that
 * systemd checks for the transaction's state file itself: without one (nearly every start) no
 * process is started at all, where a sandboxed step cost a namespace set up each start
 * (70-100 ms on the lab's Pi: the start row's regression).
 */
export function updateRecoveryUnitTemplate(): string {
  return `# Managed by Hearth.
[Unit]
Description=Hearth: finish or undo an interrupted update of app %i
ConditionPathExists=${deviceLayout.appsDir}/%i/${UPDATE_STATE_FILE}

[Service]
# oneshot: the app's start waits until it ended (After= in the app's unit), however long
# putting the old version back takes; oneshot units have no start timeout.
Type=oneshot
User=${HEARTH_USER}
ExecStart=${deviceLayout.updateStep} recover %i
${appSandbox}
`;
}

/** One instance per app: starts at boot, restarts on failure, gives up after a burst. */
export function appUnitTemplate(): string {
  return `# Managed by Hearth.
[Unit]
Description=Hearth app %i
After=network-online.target
Wants=network-online.target
# Every start (the owner's, a restart, systemd's own after a failure, at boot) first settles an
# interrupted update (updateRecoveryUnitTemplate). "Requires": a recovery that failed leaves
# the app stopped rather than started on half-applied files; one its condition skips (no
# transaction) counts as done.
Requires=${recoveryUnit}
After=${recoveryUnit}
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
Type=simple
# The account's own groups (kvm, where the device has it) come with it; naming a group
# here would stop every app on a device that lacks it (status 216/GROUP).
User=${HEARTH_USER}
WorkingDirectory=${deviceLayout.appsDir}/%i
# A Solo5 tender app's taps and forwarded ports, made by the root agent before it starts and
# taken down after it ends ("+": root, outside the sandbox; "-": a failure is the run
# script's to say, in the console; nothing for the other runtimes).
ExecStartPre=-+${deviceLayout.agent} net-up %i
ExecStopPost=-+${deviceLayout.agent} net-down %i
ExecStart=${deviceLayout.appsDir}/%i/run
# Graceful first (ACPI power-down over QMP, waiting up to its timeout), then systemd's
# SIGTERM and, after TimeoutStopSec, SIGKILL. "-": a runtime without a stop script is fine.
ExecStop=-${deviceLayout.appsDir}/%i/stop
# Announce the app's published ports over the device's avahi while it runs. "+" runs the
# root-owned agent with full privileges (avahi reads only root's /etc/avahi/services), outside
# the sandbox below; "-": a device without avahi still runs the app.
ExecStartPost=-+${deviceLayout.agent} advertise %i
ExecStopPost=-+${deviceLayout.agent} withdraw %i
# The sandbox: an app (and whoever breaks out of its VM into QEMU) may write its own folder and
# nothing else of the device, sees no home folders and no one else's /tmp, and can never gain
# privileges (no setuid, no file capabilities). The rest is cheap and costs QEMU nothing: no
# kernel tunables, modules or cgroup changes, no personality or realtime tricks, no new
# namespaces, only the socket families QEMU's user networking and QMP use, native syscalls only.
# No DeviceAllow/PrivateDevices: QEMU needs /dev/kvm where it works.
${appSandbox}
# Solo5's tenders find their tap with getifaddrs(), which asks the kernel over netlink; the list
# above is merged with this one.
RestrictAddressFamilies=AF_NETLINK
Restart=on-failure
RestartSec=3
TimeoutStopSec=45

[Install]
WantedBy=multi-user.target
`;
}

/** Where the Xen drop-in for the app unit lives; present only on Xen hosts. */
export const xenUnitDropInPath = `${deviceLayout.unitDropInDir}/xen.conf`;

/**
 * On a Xen host, app units run as root. `xl` drives the hypervisor through /dev/xen/privcmd
 * and xenstore, which only root may open, so the hearth account's run and stop scripts could
 * not work otherwise. This adds no power Hearth could not already reach: whoever may write a
 * domain config can hand any disk of this machine to a guest (`disk = [ "target=/dev/sda" ]`),
 * so controlling domains is root-equivalent by nature. What it means: on a Xen host the hearth
 * account, which writes each app's run script and domain config, is as powerful as root, and
 * so is the laptop key that signs in as it. Hearth tells the owner so at provisioning.
 */
export function xenUnitDropIn(): string {
  return `# Managed by Hearth: on this Xen host, Hearth's apps run as root, because Xen's xl
# needs it and controlling Xen domains is root-equivalent anyway (a domain config can
# attach any disk of this machine). Removed by Hearth if this device stops being a Xen host.
[Service]
User=root
Group=root
# What xl and the hotplug scripts it runs (block, vif-*) need beyond an app's own folder: its
# state in /var/lib/xen, logs and guest consoles in /var/log/xen, locks and sockets in /run/xen
# and xenstored's; loop devices, bridges and forwarding (/proc/sys) for backends; netlink and
# raw sockets for ip and bridge; kernel modules such as xen-blkback loaded on first use.
# "-": a path this Xen build does not have is skipped instead of failing the app.
ReadWritePaths=-/var/lib/xen -/var/log/xen -/run/xen -/run/xenstored -/var/lib/xenstored
ProtectKernelTunables=no
ProtectKernelModules=no
RestrictAddressFamilies=
RestrictNamespaces=no
`;
}

/** Where the Xen drop-in for the backup unit lives; present only on Xen hosts. */
export const xenBackupDropInPath = `${deviceLayout.backupTemplate}.d/xen.conf`;

/**
 * On a Xen host, a backup to another device pauses a running app's domain for its copy through
 * the root agent (xl needs root; app-pause.ts), that is through sudo, which the backup unit's
 * NoNewPrivileges would stop. The hearth account is root-equivalent on a Xen host anyway
 * (xenUnitDropIn), so this gives it nothing it did not have. xl pause and unpause only talk to
 * xenstored and the hypervisor; what they may write is what the app units may.
 */
export function xenBackupDropIn(): string {
  return `# Managed by Hearth: on this Xen host a backup pauses an app's domain for its copy through
# Hearth's root agent (xl needs root), so the backup may use sudo. Removed by Hearth if this
# device stops being a Xen host.
[Service]
NoNewPrivileges=no
ReadWritePaths=-/run/sudo -/var/lib/sudo -/var/lib/xen -/var/log/xen -/run/xen -/run/xenstored -/var/lib/xenstored
`;
}

function xmlEscape(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function avahiService(
  txt: { id: string; arch: string; hv: string; v: string },
  sshPort = 22,
): string {
  const records = Object.entries(txt)
    .map(([k, v]) => `    <txt-record>${xmlEscape(`${k}=${v}`)}</txt-record>`)
    .join('\n');
  return `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<!-- Managed by Hearth: announces this device to Hearth on the home network. -->
<service-group>
  <name replace-wildcards="yes">%h</name>
  <service>
    <type>_hearth._tcp</type>
    <port>${sshPort}</port>
${records}
  </service>
</service-group>
`;
}

export function authorizedKeys(publicKey: string): string {
  // restrict: no forwarding, no pty, no X11: the key runs commands and SFTP only.
  return `restrict ${publicKey.trim()}\n`;
}

/**
 * What the hearth account writes beside an app for the agent's `advertise` verb (agent-script.ts).
 * Empty when the app announces nothing: the agent then need not read it at each start.
 */
export function advertiseFile(
  name: string,
  ports: readonly { service?: string | undefined; host: number }[],
): string {
  const services = ports.filter((p) => p.service).map((p) => `service ${p.service} ${p.host}\n`);
  if (services.length === 0) return '';
  return `name ${name.replace(/[^A-Za-z0-9 ._-]/g, '').slice(0, 48)}\n${services.join('')}`;
}
