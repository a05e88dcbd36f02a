import { describe, expect, it } from 'vitest';
import { portClash, refusePortClash } from './port-clash';

const calendar = {
  appId: 'calendar',
  name: 'Calendar',
  ports: [{ name: 'http', guest: 80, host: 8080, protocol: 'tcp' as const }],
};
const resolver = {
  appId: 'dnsvizor',
  name: 'DNSvizor',
  ports: [{ name: 'dns', guest: 53, host: 53, protocol: 'udp' as const }],
};

describe('two apps on one port', () => {
  it('is the same port and protocol on the same device, of another app', () => {
    const web = { name: 'http', guest: 8000, host: 8080, protocol: 'tcp' as const };
    expect(portClash('notes', [web], [calendar, resolver])).toEqual({ port: web, app: calendar });
    expect(portClash('calendar', [web], [calendar])).toBeNull();
    expect(portClash('notes', [{ ...web, protocol: 'udp' }], [calendar])).toBeNull();
    expect(portClash('notes', [{ ...web, host: 8081 }], [calendar])).toBeNull();
  });

  it('is refused in a sentence that names the app already there', () => {
    const dns = { name: 'dns', guest: 53, host: 53, protocol: 'udp' as const };
    expect(() =>
      refusePortClash({ appId: 'blocky', name: 'Blocky', ports: [dns] }, 'Kitchen Pi', [resolver]),
    ).toThrow(
      'Blocky needs port 53 (UDP) on Kitchen Pi, which DNSvizor already uses. Install Blocky on another device, or remove DNSvizor from Kitchen Pi first.',
    );
  });
});
