// The files Hearth puts on a device (DESIGN.md, "A Hearth device"). Generated here, byte
// for byte, so a second provisioning can compare hashes and change nothing.

import { HEARTH_USER, deviceLayout } from '../device/layout';

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
    if (typeof value.id !== 'string' || !/^[a-f0-9-]{36}$/.test(value.id)) return null;
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

/** An app id as Hearth makes them (the comma escaped for sudoers). */
const APP_ID = '[a-z][a-z0-9-]{0\\,31}';

const VERBS = [
  'start',
  'stop',
  'restart',
  'enable',
  'disable',
  'reset-failed',
  'is-active',
  'show',
];

/** Whether this sudo (`sudo -V` output) understands regular expressions in arguments (1.9.10+). */
export function sudoHasRegex(versionOutput: string): boolean {
  const match = /Sudo version (\d+)\.(\d+)\.(\d+)/.exec(versionOutput);
  if (!match) return false;
  const [major, minor, patch] = match.slice(1).map(Number) as [number, number, number];
  return major > 1 || (major === 1 && (minor > 9 || (minor === 9 && patch >= 10)));
}

/**
 * Least privilege: the hearth account may manage Hearth's app units, nothing else. sudo's
 * regular expressions (1.9.10+: Debian 12 and later) pin the whole argument list; an older
 * sudo (Debian 11) only has wildcards, where `hearth-app@*` would also match
 * `hearth-app@x ssh.service`, so it gets them only because it understands nothing better.
 * Its own files under /var/lib/hearth need no root at all.
 */
export function sudoersDropIn(regex = true): string {
  const commands = regex
    ? `/usr/bin/systemctl ^(${VERBS.join('|')}) hearth-app@${APP_ID}$`
    : VERBS.map((verb) => `/usr/bin/systemctl ${verb} hearth-app@*`).join(', \\\n    ');
  return [
    '# Managed by Hearth: lets the hearth account look after Hearth apps and nothing else.',
    `Cmnd_Alias HEARTH_APPS = ${commands}`,
    `${HEARTH_USER} ALL=(root) NOPASSWD: HEARTH_APPS`,
    '',
  ].join('\n');
}

/** One instance per app: starts at boot, restarts on failure, gives up after a burst. */
export function appUnitTemplate(): string {
  return `# Managed by Hearth.
[Unit]
Description=Hearth app %i
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
Type=simple
# The account's own groups (kvm, where the device has it) come with it; naming a group
# here would stop every app on a device that lacks it (status 216/GROUP).
User=${HEARTH_USER}
WorkingDirectory=${deviceLayout.appsDir}/%i
ExecStart=${deviceLayout.appsDir}/%i/run
# Graceful first (ACPI power-down over QMP, waiting up to its timeout), then systemd's
# SIGTERM and, after TimeoutStopSec, SIGKILL. "-": a runtime without a stop script is fine.
ExecStop=-${deviceLayout.appsDir}/%i/stop
# Announce the app's published ports over the device's avahi while it runs. "+" runs the
# root-owned helper with full privileges (avahi reads only root's /etc/avahi/services), so
# the hearth account needs no sudo for it; "-": a device without avahi still runs the app.
ExecStartPost=-+${deviceLayout.advertiseHelper} %i
ExecStopPost=-+${deviceLayout.advertiseHelper} --withdraw %i
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
 * The root side of per-app mDNS: reads <app>/advertise (written by the hearth account) as the
 * hearth account, so a symlink there cannot make root read anything else, checks every field
 * and writes the avahi service file; avahi notices the change by itself.
 * advertise holds `name TEXT` and one `service _type._tcp PORT` line per published port.
 */
export function advertiseHelper(
  where: { appsDir: string; servicesDir: string; user: string } = {
    appsDir: deviceLayout.appsDir,
    servicesDir: deviceLayout.avahiServicesDir,
    user: HEARTH_USER,
  },
): string {
  return `#!/bin/sh
# Managed by Hearth: publishes (or withdraws) a Hearth app's services over avahi.
set -eu
withdraw=0
if [ "\${1:-}" = --withdraw ]; then withdraw=1; shift; fi
app="\${1:-}"
case "$app" in
  [a-z]*) ;;
  *) echo "hearth advertise: not an app id" >&2; exit 2 ;;
esac
case "$app" in *[!a-z0-9-]*) echo "hearth advertise: not an app id" >&2; exit 2 ;; esac
[ \${#app} -le 32 ] || { echo "hearth advertise: not an app id" >&2; exit 2; }
out=${where.servicesDir}/hearth-app-$app.service
src=${where.appsDir}/$app/advertise
if [ "$withdraw" = 1 ]; then rm -f "$out"; exit 0; fi
[ -d ${where.servicesDir} ] || exit 0
name=Hearth
services=""
runuser -u ${where.user} -- head -c 4096 "$src" 2>/dev/null > "$out.hearth-in" || true
while read -r key a b || [ -n "$key" ]; do
  case "$key" in
    name) name=$(printf '%s %s' "$a" "$b" | tr -cd 'A-Za-z0-9 ._-' | cut -c1-48 | sed 's/ *$//') ;;
    service)
      case "$a" in _[a-z0-9]*._tcp|_[a-z0-9]*._udp) ;; *) continue ;; esac
      case "$a" in *[!a-z0-9._-]*) continue ;; esac
      case "$b" in ''|*[!0-9]*) continue ;; esac
      [ \${#b} -le 5 ] && [ "$b" -ge 1 ] && [ "$b" -le 65535 ] || continue
      services="$services  <service><type>$a</type><port>$b</port></service>
" ;;
  esac
done < "$out.hearth-in"
rm -f "$out.hearth-in"
if [ -z "$services" ]; then rm -f "$out"; exit 0; fi
{
  echo "<?xml version=\\"1.0\\" standalone='no'?>"
  echo '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">'
  echo '<!-- Managed by Hearth: present while the app runs. -->'
  echo '<service-group>'
  echo "  <name replace-wildcards=\\"yes\\">\${name:-Hearth} on %h</name>"
  printf '%s' "$services"
  echo '</service-group>'
} > "$out.hearth-new"
chmod 0644 "$out.hearth-new"
mv -f "$out.hearth-new" "$out"
`;
}

/** What the hearth account writes beside an app for the helper above. */
export function advertiseFile(
  name: string,
  ports: readonly { service?: string | undefined; host: number }[],
): string {
  const services = ports.filter((p) => p.service).map((p) => `service ${p.service} ${p.host}\n`);
  return `name ${name.replace(/[^A-Za-z0-9 ._-]/g, '').slice(0, 48)}\n${services.join('')}`;
}
