import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { xenMac } from '../runtimes/xen-config';
import { interpret } from '../apps/app-state';
import { addressForMac, parseStatus, statusScript, usableGuestIpv4 } from './app-status-report';
import { deviceLayout } from './layout';

/** The device that answered: Xen guests' MACs derive from it. */
const DEVICE = '0f8fad5b-d9cb-469f-a165-70867728950e';

const sample = `@app counter
ActiveState=active
SubState=running
Result=success
NRestarts=0
ExecMainStartTimestamp=@1795000000
MemoryCurrent=12582912
UnitFileState=enabled
Healthy=yes
@app web
ActiveState=failed
SubState=failed
Result=start-limit-hit
NRestarts=5
ExecMainStartTimestamp=
MemoryCurrent=[not set]
UnitFileState=enabled
`;

describe('app status from the device', () => {
  it('reads what systemd says about each app', () => {
    const [counter, web] = parseStatus(sample);
    expect(counter).toEqual({
      appId: 'counter',
      activeState: 'active',
      subState: 'running',
      result: 'success',
      restarts: 0,
      startedAt: 1795000000000,
      memoryBytes: 12582912,
      enabled: true,
      healthy: true,
      sleeping: false,
      specText: '',
      guestAddress: null,
    });
    expect(web).toMatchObject({
      appId: 'web',
      restarts: 5,
      startedAt: null,
      memoryBytes: null,
      healthy: null,
    });
  });

  it('says running, restarting, gave up and crashed in words', () => {
    const [counter, web] = parseStatus(sample);
    expect(interpret(counter!, 'Counter', null).state).toBe('running');
    expect(interpret({ ...counter!, healthy: false }, 'Counter', null).state).toBe('starting');
    expect(
      interpret(
        { ...counter!, activeState: 'activating', subState: 'auto-restart' },
        'Counter',
        null,
      ).state,
    ).toBe('restarting');
    const gaveUp = interpret(web!, 'Web page', null);
    expect(gaveUp.state).toBe('gave-up');
    expect(gaveUp.message).toContain('stopped trying');
    expect(interpret({ ...web!, result: 'exit-code', restarts: 0 }, 'Web page', null).state).toBe(
      'crashed',
    );
    expect(interpret({ ...web!, activeState: 'inactive' }, 'Web page', null).state).toBe('stopped');
  });

  it('ignores what it does not expect from the device', () => {
    expect(
      parseStatus(
        'garbage\n@app ../../etc\nActiveState=active\n@app ok\nEvil=1\n' + 'x'.repeat(100000),
      ),
    ).toEqual([expect.objectContaining({ appId: 'ok', activeState: '' })]);
  });
});

it('calls a unit that failed after its restarts "gave up", whatever the last Result', () => {
  const [, web] = parseStatus(sample);
  expect(interpret({ ...web!, result: 'exit-code', restarts: 4 }, 'Web page', null).state).toBe(
    'gave-up',
  );
  expect(interpret({ ...web!, result: 'exit-code', restarts: 1 }, 'Web page', null).state).toBe(
    'crashed',
  );
});

describe('the address of a Xen guest on the LAN', () => {
  const mac = xenMac('calendar', DEVICE);
  const xenSpec = JSON.stringify({ appId: 'calendar', target: 'xen-x86_64' });
  const qemuSpec = JSON.stringify({ appId: 'counter', target: 'qemu-x86_64' });
  // As `ip -4 neigh show` (iproute2 6.1, Debian 12) prints them on a dom0.
  const neighbours = [
    '192.168.1.1 dev xenbr0 lladdr a4:91:b1:0c:22:7e router REACHABLE',
    `192.168.1.57 dev xenbr0 lladdr ${mac} STALE`,
    `192.168.1.23 dev xenbr0 lladdr ${mac} REACHABLE`,
    '192.168.1.40 dev xenbr0 FAILED',
    '192.168.1.41 dev xenbr0  INCOMPLETE',
    `192.168.1.99 dev xenbr0 lladdr ${xenMac('counter', DEVICE)} DELAY`,
  ];

  it('reads it from the neighbour table by the guest MAC, preferring a confirmed entry', () => {
    const output = [
      '@app calendar',
      `Spec=${xenSpec}`,
      'ActiveState=active',
      '@app counter',
      `Spec=${qemuSpec}`,
      'ActiveState=active',
      '@neigh',
      ...neighbours,
      '',
    ].join('\n');
    const [calendar, counter] = parseStatus(output, DEVICE);
    expect(calendar).toMatchObject({ appId: 'calendar', guestAddress: '192.168.1.23' });
    // Only apps whose spec targets Xen get an address, even if their MAC shows up.
    expect(counter).toMatchObject({ appId: 'counter', guestAddress: null });
  });

  it('says nothing when the guest is not (or no longer) in the table', () => {
    const spec = ['@app calendar', `Spec=${xenSpec}`, 'ActiveState=active'];
    expect(parseStatus(spec.join('\n'), DEVICE)[0]?.guestAddress).toBeNull();
    expect(parseStatus([...spec, '@neigh', ''].join('\n'), DEVICE)[0]?.guestAddress).toBeNull();
    expect(addressForMac([`192.168.1.23 dev xenbr0 lladdr ${mac} FAILED`], mac)).toBeNull();
    expect(addressForMac([`192.168.1.23 dev xenbr0 lladdr ${mac}`], mac)).toBeNull();
    expect(addressForMac(neighbours, '00:16:3e:00:00:00')).toBeNull();
  });

  it('keeps an entry whose state is followed by other words', () => {
    expect(addressForMac([`10.0.0.7 dev br0 lladdr ${mac} REACHABLE proto zebra`], mac)).toBe(
      '10.0.0.7',
    );
    expect(addressForMac([`10.0.0.8 dev br0 lladdr ${mac.toUpperCase()} STALE`], mac)).toBe(
      '10.0.0.8',
    );
  });

  it('takes nothing but a usable IPv4 literal from the device', () => {
    const hostile = [
      `http://evil.example/ dev xenbr0 lladdr ${mac} REACHABLE`,
      `127.0.0.1 dev xenbr0 lladdr ${mac} REACHABLE`,
      `0.0.0.0 dev xenbr0 lladdr ${mac} REACHABLE`,
      `255.255.255.255 dev xenbr0 lladdr ${mac} REACHABLE`,
      `224.0.0.251 dev xenbr0 lladdr ${mac} REACHABLE`,
      `192.168.001.023 dev xenbr0 lladdr ${mac} REACHABLE`,
      `192.168.1.256 dev xenbr0 lladdr ${mac} REACHABLE`,
      `192.168.1.5";rm -rf / dev xenbr0 lladdr ${mac} REACHABLE`,
      `fe80::216:3eff:fe12:3456 dev xenbr0 lladdr ${mac} REACHABLE`,
    ];
    expect(addressForMac(hostile, mac)).toBeNull();
    expect(addressForMac([...hostile, `192.168.1.23 dev xenbr0 lladdr ${mac} STALE`], mac)).toBe(
      '192.168.1.23',
    );
    expect(usableGuestIpv4('10.1.2.3')).toBe('10.1.2.3');
    expect(usableGuestIpv4(' 10.1.2.3')).toBeNull();
    expect(usableGuestIpv4('10.1.2')).toBeNull();
    expect(usableGuestIpv4('1e1.1.1.1')).toBeNull();
  });

  it('ignores garbage after the neighbour marker and does not let it reopen an app', () => {
    const output = [
      '@app calendar',
      `Spec=${xenSpec}`,
      '@neigh',
      'garbage',
      'ActiveState=failed',
      '@app evil',
      `${'x'.repeat(10000)} lladdr ${mac} REACHABLE`,
    ].join('\n');
    const apps = parseStatus(output, DEVICE);
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({ appId: 'calendar', activeState: '', guestAddress: null });
  });
});

// The real status script under sh, with its folder moved to a scratch directory and systemctl
// and ip replaced by stand-ins that print what Debian 12's print.
describe('the status command on a device', () => {
  const debian12 = '#!/bin/sh\necho ActiveState=active\n';
  // systemd 247 (Debian 11) refuses --timestamp=unix the way it does on a real device.
  const debian11 = `#!/bin/sh
case "$*" in *--timestamp*) echo 'Invalid value for --timestamp: unix' >&2; exit 1 ;; esac
printf 'ActiveState=active\\nSubState=running\\nNRestarts=0\\nUnitFileState=enabled\\n'
`;
  function runStatus(specs: Record<string, object>, systemctl = debian12): string {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-status-'));
    try {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'systemctl'), systemctl, { mode: 0o755 });
      writeFileSync(
        join(bin, 'ip'),
        `#!/bin/sh\n[ "$*" = "-4 neigh show" ] || exit 1\necho "192.168.1.23 dev xenbr0 lladdr ${xenMac('calendar', DEVICE)} REACHABLE"\n`,
        { mode: 0o755 },
      );
      for (const [id, spec] of Object.entries(specs)) {
        mkdirSync(join(dir, 'apps', id), { recursive: true });
        writeFileSync(join(dir, 'apps', id, 'spec.json'), `${JSON.stringify(spec)}\n`);
      }
      const script = statusScript.replace(deviceLayout.appsDir, join(dir, 'apps'));
      const result = spawnSync('sh', ['-c', script], {
        env: { PATH: `${bin}:/usr/bin:/bin` },
        encoding: 'utf8',
      });
      expect(result.status).toBe(0);
      return result.stdout;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('reports the neighbour table only when the device holds a Xen app', () => {
    const withXen = runStatus({
      calendar: { appId: 'calendar', target: 'xen-x86_64' },
      counter: { appId: 'counter', target: 'qemu-x86_64' },
    });
    expect(withXen).toContain('@neigh');
    expect(parseStatus(withXen, DEVICE).map((a) => [a.appId, a.guestAddress])).toEqual([
      ['calendar', '192.168.1.23'],
      ['counter', null],
    ]);
    expect(runStatus({ counter: { appId: 'counter', target: 'qemu-x86_64' } })).not.toContain(
      '@neigh',
    );
  });

  it('reports apps on Debian 11, whose systemd has no --timestamp, without their start time', () => {
    const out = runStatus({ counter: { appId: 'counter', target: 'qemu-x86_64' } }, debian11);
    expect(parseStatus(out, DEVICE)).toMatchObject([
      {
        appId: 'counter',
        activeState: 'active',
        subState: 'running',
        enabled: true,
        startedAt: null,
      },
    ]);
  });
});
