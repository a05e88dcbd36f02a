// The files Hearth puts on a device (DESIGN.md, "A Hearth device"). Generated here, byte
// for byte, so a second provisioning can compare hashes and change nothing.

export const HEARTH_USER = 'hearth';
export const paths = {
  deviceJson: '/etc/hearth/device.json',
  appsDir: '/var/lib/hearth/apps',
  stateDir: '/var/lib/hearth',
  unit: '/etc/systemd/system/hearth-app@.service',
  avahiService: '/etc/avahi/services/hearth.service',
  sudoers: '/etc/sudoers.d/hearth',
  authorizedKeys: '/home/hearth/.ssh/authorized_keys',
} as const;

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

/**
 * Least privilege: the hearth account may manage Hearth's app units and read their logs,
 * nothing else. Its own files under /var/lib/hearth need no root at all.
 */
export function sudoersDropIn(): string {
  const units = [
    'start',
    'stop',
    'restart',
    'enable',
    'disable',
    'reset-failed',
    'is-active',
    'show',
  ]
    .map((verb) => `/usr/bin/systemctl ${verb} hearth-app@*`)
    .join(', \\\n    ');
  return [
    '# Managed by Hearth: lets the hearth account look after Hearth apps and nothing else.',
    `Cmnd_Alias HEARTH_APPS = ${units}, \\`,
    '    /usr/bin/systemctl daemon-reload, \\',
    '    /usr/bin/journalctl -u hearth-app@*',
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
WorkingDirectory=${paths.appsDir}/%i
ExecStart=${paths.appsDir}/%i/run
# Graceful first (ACPI power-down over QMP, waiting up to its timeout), then systemd's
# SIGTERM and, after TimeoutStopSec, SIGKILL. "-": a runtime without a stop script is fine.
ExecStop=-${paths.appsDir}/%i/stop
Restart=on-failure
RestartSec=3
TimeoutStopSec=45

[Install]
WantedBy=multi-user.target
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
