import { describe, expect, it } from 'vitest';
import type { AppSpec } from './app-spec';
import { appEndpoint } from './health-probe';

const web = { name: 'web', guest: 80, host: 8080, protocol: 'tcp' as const };
const spec = (target: string) => ({ target, ports: [web] }) as unknown as AppSpec;

describe('where the laptop reaches an app', () => {
  it('under QEMU: the port forwarded on the device', () => {
    expect(appEndpoint(spec('qemu-x86_64'), web, 'living-room-pi.local', null)).toEqual({
      host: 'living-room-pi.local',
      port: 8080,
    });
    expect(appEndpoint(spec('qemu-aarch64'), web, undefined, null)).toBeNull();
  });

  it('under Xen: the guest itself on its own port, once dom0 has seen its address', () => {
    expect(appEndpoint(spec('xen-x86_64'), web, '192.168.1.20', '192.168.1.23')).toEqual({
      host: '192.168.1.23',
      port: 80,
    });
    // Never the device's address: nothing listens there for a Xen guest.
    expect(appEndpoint(spec('xen-x86_64'), web, '192.168.1.20', null)).toBeNull();
  });
});
