// Which apps can sleep when idle, and the files an app that sleeps gets on its device.
import { describe, expect, it } from 'vitest';
import { agentNetworkFile } from '../device/agent-protocol';
import { wakeInternalPort } from '../device/layout';
import { appFiles } from './app-files';
import { canSleep, sleepsWhenIdle } from './app-sleep';
import type { AppSpec } from './app-spec';
import { appSpec, deviceRecord, testLauncher } from './apps-test-kit';

const web = { name: 'http', guest: 80, host: 8080, protocol: 'tcp' as const, path: '/' };
const sleepy = (more: Partial<AppSpec>) =>
  appSpec({ ports: [web], sleep: { idleSeconds: 600 }, ...more });
const net = { devices: [{ name: 'service', type: 'NET_BASIC' as const }] };

describe('which apps can sleep when idle', () => {
  it('lets QEMU apps and networked Solo5 tender apps with a TCP port sleep', () => {
    expect(sleepsWhenIdle(sleepy({ target: 'qemu-x86_64' }))).toBe(true);
    expect(sleepsWhenIdle(sleepy({ target: 'spt-x86_64', solo5: net }))).toBe(true);
    expect(sleepsWhenIdle(sleepy({ target: 'hvt-aarch64', solo5: net }))).toBe(true);
  });

  it('refuses, in a sentence, a tender app without a network, a Xen guest and a UDP app', () => {
    expect(() =>
      canSleep(sleepy({ name: 'Notes', target: 'spt-x86_64', solo5: { devices: [] } })),
    ).toThrow('Notes has no network, so no visit could wake it; it keeps running instead.');
    expect(() => canSleep(sleepy({ name: 'Notes', target: 'xen-x86_64' }))).toThrow(
      'Notes cannot sleep when idle: it runs as a Xen guest, which visitors reach at its own address.',
    );
    expect(
      sleepsWhenIdle(sleepy({ target: 'qemu-x86_64', ports: [{ ...web, protocol: 'udp' }] })),
    ).toBe(false);
  });
});

describe('the files of an app that sleeps', () => {
  const file = (spec: AppSpec, name: string) =>
    appFiles(testLauncher, deviceRecord(), spec).find((f) => f.name === name)?.content;

  it('has QEMU listen on loopback at an internal port, which its proxies wait for', () => {
    const spec = sleepy({ target: 'qemu-x86_64' });
    expect(file(spec, 'sleep')).toBe(`idle 600\nwake tcp 8080 ${wakeInternalPort(8080)} http\n`);
    expect(file(spec, 'network')).toBe('');
  });

  it("sends a tender app's visits to the unikernel's own port, with no forwards past its sockets", () => {
    const spec = sleepy({ target: 'spt-x86_64', solo5: net });
    expect(file(spec, 'sleep')).toBe('idle 600\nwake tcp 8080 80 http tender\n');
    expect(file(spec, 'network')).toBe(agentNetworkFile(1, []));
    // Awake for good, its ports are forwarded to it as before.
    const { sleep: _asleep, ...always } = spec;
    expect(file(always, 'network')).toBe(agentNetworkFile(1, [web]));
  });
});
