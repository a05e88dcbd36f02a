// Real sockets: bonjour-service publishing and Hearth's discovery browsing over real
// multicast on the loopback interface, and a port that cannot be bound.
import { createSocket } from 'node:dgram';
import { Bonjour } from 'bonjour-service';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiscoveryService } from './discovery-service';
import { bonjourTransport } from './mdns-browser';
import { freeUdpPort, loopbackLan } from './test-helpers';
import type { DiscoveredDevice } from './types';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

describe('real multicast on loopback', () => {
  it('finds a bonjour-published _ssh._tcp and _hearth._tcp device as one entry, and sees it leave', async () => {
    const port = await freeUdpPort();
    const mdnsOptions = { interface: '127.0.0.1', bind: '0.0.0.0', port, loopback: true };
    const publisher = new Bonjour(mdnsOptions, () => undefined);
    cleanup.push(() => publisher.destroy());
    const published: DiscoveredDevice[][] = [];
    const service = new DiscoveryService({
      clock: { now: () => Date.now() },
      publish: (d) => published.push(d),
      interfaces: loopbackLan,
      mdnsTransport: (iface) => bonjourTransport(iface, { port, interfaceAddress: '127.0.0.1' }),
    });
    cleanup.push(() => service.stop());
    service.start();
    publisher.publish({
      name: 'hearth-test-pi',
      type: 'ssh',
      port: 22,
      host: 'hearth-test-pi.local',
    });
    publisher.publish({
      name: 'Living-room Pi',
      type: 'hearth',
      port: 22,
      host: 'hearth-test-pi.local',
      txt: { id: 'dev-42', arch: 'aarch64', hv: 'kvm', v: '1' },
    });
    await vi.waitFor(
      () => {
        const list = service.list();
        expect(list).toHaveLength(1);
        expect(list[0]).toMatchObject({
          key: 'hearth:dev-42',
          name: 'Living-room Pi',
          kind: 'hearth',
          arch: 'aarch64',
          hypervisor: 'kvm',
          services: ['hearth', 'ssh'],
          hostnames: ['hearth-test-pi.local'],
          source: 'mdns',
        });
      },
      { timeout: 8_000, interval: 50 },
    );
    expect(service.interfaceStatus()).toEqual([
      { name: 'lo', address: '127.0.0.1', state: 'listening' },
    ]);
    // unpublishAll sends goodbyes (TTL 0): the device disappears without waiting for expiry.
    await new Promise<void>((resolve) => publisher.unpublishAll(() => resolve()));
    await vi.waitFor(() => expect(service.list()).toEqual([]), { timeout: 5_000, interval: 50 });
    await vi.waitFor(() => expect(published.at(-1)).toEqual([]), { timeout: 2_000, interval: 50 });
  }, 20_000);

  it('reports an interface whose port cannot be bound, without crashing', async () => {
    // An exclusive socket on the port makes multicast-dns's bind fail with EADDRINUSE.
    const blocker = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve) => blocker.bind(0, '0.0.0.0', resolve));
    cleanup.push(() => blocker.close());
    const port = blocker.address().port;
    const service = new DiscoveryService({
      clock: { now: () => Date.now() },
      publish: () => undefined,
      interfaces: loopbackLan,
      mdnsTransport: (iface) => bonjourTransport(iface, { port, interfaceAddress: '127.0.0.1' }),
    });
    cleanup.push(() => service.stop());
    service.start();
    await vi.waitFor(
      () =>
        expect(service.interfaceStatus()[0]).toMatchObject({
          state: 'failed',
          error: 'EADDRINUSE',
        }),
      { timeout: 5_000, interval: 20 },
    );
  });
});
