import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  restartXenconsoledScript,
  xenConsoleFlavourScript,
  xenConsoleSettingsFile,
} from '../device/prepare-commands';
import { withGuestConsoleLog } from './xen-host';

// /etc/default/xen as Debian 12's xen-utils-common 4.17.7 installs it (from
// /usr/share/xen-utils-common/default.xen, handled by ucf). Its init script, /etc/init.d/xen,
// sources it and starts xenconsoled with `$XENCONSOLED_ARGS --pid-file ...`, nothing else.
const debianDefault = `## Path: System/Virtualization
## Type: string
## Default: "none"
#
# Log xenconsoled messages (cf xl dmesg)
#XENCONSOLED_TRACE=[none|guest|hv|all]

## Type: string
## Default: oxenstored
#
# Select xenstore implementation. This can be either of:
#  * /usr/sbin/oxenstored
#  * /usr/sbin/xenstored
#
# Changing this requires a reboot to take effect.
#XENSTORED=/usr/sbin/oxenstored

## Type: string
## Default: ""
#
# Additional commandline arguments to start xenstored,
# like "--trace-file /var/log/xen/xenstored-trace.log"
# See "/usr/sbin/oxenstored --help" for possible options.
XENSTORED_ARGS=

## Type: string
## Default: Not defined, tracing off
#
# Log xenstored messages
#XENSTORED_TRACE=[yes|on|1]

# Dom0 UUID
#XEN_DOM0_UUID=00000000-0000-0000-0000-000000000000
`;

/** What /etc/init.d/xen would hand xenconsoled, by sourcing the file in a real sh. */
function debianArgs(text: string): string {
  const result = spawnSync(
    'sh',
    ['-c', 'XENCONSOLED_ARGS=; eval "$1"; printf "%s" "$XENCONSOLED_ARGS"', 'sh', text],
    { encoding: 'utf8' },
  );
  expect(result.status).toBe(0);
  return result.stdout.trim().split(/\s+/).join(' ');
}

describe('guest console logging on a Debian Xen host (/etc/default/xen)', () => {
  it('adds --log=guest to the untouched file, keeping every other line', () => {
    const edited = withGuestConsoleLog(debianDefault, 'debian');
    expect(edited.startsWith(debianDefault)).toBe(true);
    expect(debianArgs(edited)).toBe('--log=guest');
    expect(xenConsoleSettingsFile.debian).toBe('/etc/default/xen');
  });

  it('changes nothing the second time', () => {
    const once = withGuestConsoleLog(debianDefault, 'debian');
    expect(withGuestConsoleLog(once, 'debian')).toBe(once);
  });

  it("keeps the owner's other xenconsoled options and what they already log", () => {
    const owner = `${debianDefault}XENCONSOLED_ARGS="--timestamp=all --log=none"\n# mine\n`;
    const edited = withGuestConsoleLog(owner, 'debian');
    expect(debianArgs(edited)).toBe('--timestamp=all --log=guest');
    expect(edited).toContain('# mine\n');
    expect(debianArgs(withGuestConsoleLog('XENCONSOLED_ARGS="--log hv -o keep"\n', 'debian'))).toBe(
      '--log=all -o keep',
    );
    for (const already of ['XENCONSOLED_ARGS="--log=all"\n', "XENCONSOLED_ARGS='--log=guest'\n"])
      expect(withGuestConsoleLog(already, 'debian')).toBe(already);
  });

  it('extends a value it cannot safely rewrite instead of rewriting it', () => {
    const tricky = 'EXTRA=-v\nXENCONSOLED_ARGS="$EXTRA --timestamp=guest"\n';
    const edited = withGuestConsoleLog(tricky, 'debian');
    expect(edited.startsWith(tricky)).toBe(true);
    expect(debianArgs(edited)).toBe('-v --timestamp=guest --log=guest');
    expect(withGuestConsoleLog(edited, 'debian')).toBe(edited);
  });
});

describe("guest console logging with Xen's own systemd units (/etc/default/xencommons)", () => {
  const upstream = `## Path: System/Virtualization\n#XENCONSOLED_TRACE=[none|guest|hv|all]\nXENSTORED_ARGS=\n`;

  it('sets XENCONSOLED_TRACE=guest once and keeps the rest', () => {
    const edited = withGuestConsoleLog(upstream, 'upstream');
    expect(edited.startsWith(upstream)).toBe(true);
    expect(edited.trimEnd().split('\n').at(-1)).toBe('XENCONSOLED_TRACE=guest');
    expect(withGuestConsoleLog(edited, 'upstream')).toBe(edited);
    expect(withGuestConsoleLog('', 'upstream')).toContain('XENCONSOLED_TRACE=guest\n');
  });

  it('changes an existing setting in place, never logging less than before', () => {
    expect(withGuestConsoleLog('A=1\nXENCONSOLED_TRACE=none\nB=2\n', 'upstream')).toBe(
      'A=1\nXENCONSOLED_TRACE=guest\nB=2\n',
    );
    expect(withGuestConsoleLog('XENCONSOLED_TRACE="hv"\n', 'upstream')).toBe(
      'XENCONSOLED_TRACE=all\n',
    );
    expect(withGuestConsoleLog('XENCONSOLED_TRACE=all\n', 'upstream')).toBe(
      'XENCONSOLED_TRACE=all\n',
    );
  });
});

describe('restarting xenconsoled', () => {
  it('is valid sh and never restarts the whole xen service on Debian', () => {
    for (const script of [
      xenConsoleFlavourScript,
      restartXenconsoledScript('debian'),
      restartXenconsoledScript('upstream'),
    ])
      expect(spawnSync('sh', ['-n', '-c', script]).status).toBe(0);
    const debian = restartXenconsoledScript('debian');
    // xen.service also runs dom0's QEMU, the disk backend of running guests.
    expect(debian).not.toMatch(/systemctl (re)?start xen\b|init\.d\/xen (re)?start/);
    expect(debian).toContain('--pidfile /run/xenconsoled.pid --name xenconsoled');
    expect(restartXenconsoledScript('upstream')).toBe('systemctl restart xenconsoled.service');
  });
});
