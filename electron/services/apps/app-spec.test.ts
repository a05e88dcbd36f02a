import { describe, expect, it } from 'vitest';
import { parseAppSpec } from './app-spec';

/** spec.json as Hearth writes it on the device for Counter. */
function specText(port: Record<string, unknown>): string {
  return JSON.stringify({
    appId: 'counter',
    name: 'Counter',
    version: '1.0.0',
    target: 'qemu-x86_64',
    sha256: 'a'.repeat(64),
    disk: 'virtio',
    memoryMiB: 32,
    volumes: [{ name: 'data', sizeMiB: 8 }],
    ports: [{ name: 'web', guest: 80, host: 8080, protocol: 'tcp', ...port }],
    bootArgs: '',
    health: { kind: 'tcp', port: 80 },
    accel: 'tcg',
    installedAt: '2026-12-01T10:00:00.000Z',
  });
}

const portOf = (port: Record<string, unknown>) => parseAppSpec(specText(port))?.ports[0];

describe('the link fields of a spec read back from a device', () => {
  it('keeps a DNS-SD service type and a plain URL path', () => {
    for (const path of [
      '/',
      '/calendar/',
      '/dav/principals/?view=week&x=1',
      '/a%20b',
      '/~me:@!$',
    ]) {
      expect(portOf({ service: '_http._tcp', path })).toEqual({
        name: 'web',
        guest: 80,
        host: 8080,
        protocol: 'tcp',
        service: '_http._tcp',
        path,
      });
    }
    expect(portOf({ service: '_caldav._tcp' })?.service).toBe('_caldav._tcp');
    expect(portOf({ service: '_dns._udp' })?.service).toBe('_dns._udp');
  });

  it('gives a port whose path could point elsewhere or smuggle characters no link at all', () => {
    for (const path of [
      '//evil.example/', // read alone (a relative link), this is another host
      '/\\evil.example', // browsers read a backslash as "/", so the same
      'evil.example/', // not a path
      '',
      '/a b',
      '/line\nbreak',
      '/tab\there',
      '/nul\u0000',
      '/del\u007f',
      '/bad%zz',
      '/half%4',
      '/frag#x',
      '/quote"',
      '/<script>',
      '/ünïcode',
      `/${'a'.repeat(256)}`,
      42,
      null,
    ]) {
      const port = portOf({ service: '_http._tcp', path });
      // The app is still listed (so the owner can stop or remove it) but nothing links to it.
      expect(port, JSON.stringify(path)).toEqual({
        name: 'web',
        guest: 80,
        host: 8080,
        protocol: 'tcp',
      });
    }
  });

  it('gives a port whose service is not a DNS-SD type no link at all', () => {
    for (const service of [
      'http',
      '_http',
      '_http._sctp',
      '_http._tcp.local',
      '_-http._tcp',
      '_http-._tcp',
      '_waytoolongservicename._tcp',
      '_http._tcp\n',
      'javascript:alert(1)',
      '',
      7,
    ]) {
      const port = portOf({ service, path: '/' });
      expect(port, JSON.stringify(service)).not.toHaveProperty('service');
      expect(port).not.toHaveProperty('path');
    }
  });

  it('still refuses a spec whose other fields are wrong', () => {
    expect(parseAppSpec(specText({ host: 0 }))).toBeNull();
    expect(parseAppSpec(specText({ protocol: 'sctp' }))).toBeNull();
    expect(parseAppSpec('not json')).toBeNull();
  });
});

describe('the health probe read back from a device', () => {
  const withHealth = (path: string) =>
    parseAppSpec(
      specText({}).replace(
        '{"kind":"tcp","port":80}',
        JSON.stringify({ kind: 'http', port: 80, path }),
      ),
    );

  it('takes a plain path and refuses one that would send the laptop elsewhere', () => {
    expect(withHealth('/health')?.health).toEqual({ kind: 'http', port: 80, path: '/health' });
    for (const path of ['//evil.example/', '@evil.example/', '/\\evil', 'http://x/', '/a b'])
      expect([path, withHealth(path)]).toEqual([path, null]);
  });
});
