import { describe, expect, it } from 'vitest';
import { MdnsRecordCache } from './mdns-records';
import { goodbye, response, serviceRecords } from './test-helpers';

const pi = serviceRecords({
  type: '_ssh._tcp',
  instance: 'raspberrypi',
  host: 'raspberrypi.local',
  addresses: ['198.18.0.10'],
});

describe('MdnsRecordCache', () => {
  it('turns PTR+SRV+TXT+A into a service sighting', () => {
    const cache = new MdnsRecordCache();
    expect(cache.ingest(response(pi), 1000)).toBe(true);
    expect(cache.services('eth0')).toEqual([
      expect.objectContaining({
        fqdn: 'raspberrypi._ssh._tcp.local',
        kind: 'ssh',
        instance: 'raspberrypi',
        host: 'raspberrypi.local',
        port: 22,
        addresses: ['198.18.0.10'],
        interfaceName: 'eth0',
      }),
    ]);
    // The same announcement again changes nothing a sighting depends on.
    expect(cache.ingest(response(pi), 2000)).toBe(false);
  });

  it('ignores service types it does not browse and PTRs that point elsewhere', () => {
    const cache = new MdnsRecordCache();
    cache.ingest(
      response(
        serviceRecords({ type: '_ipp._tcp', instance: 'printer', host: 'p.local', addresses: [] }),
      ),
      0,
    );
    cache.ingest(
      response([{ type: 'PTR', name: '_ssh._tcp.local', ttl: 120, data: 'x._http._tcp.local' }]),
      0,
    );
    expect(cache.services('eth0')).toEqual([]);
  });

  it('removes a service on a goodbye (TTL 0)', () => {
    const cache = new MdnsRecordCache();
    cache.ingest(response(pi), 1000);
    expect(cache.ingest(goodbye(pi.slice(0, 1)), 1500)).toBe(true);
    expect(cache.services('eth0')).toEqual([]);
  });

  it('expires records that are not refreshed, and keeps refreshed ones', () => {
    const cache = new MdnsRecordCache();
    cache.ingest(response(pi), 0);
    expect(cache.expire(119_000)).toBe(false);
    cache.ingest(response(pi), 100_000); // refreshed: SRV and A now live until 220 s
    expect(cache.expire(150_000)).toBe(false);
    expect(cache.services('eth0')).toHaveLength(1);
    expect(cache.expire(220_000)).toBe(true);
    expect(cache.services('eth0')).toEqual([]);
    expect(cache.missing().instances).toEqual(['raspberrypi._ssh._tcp.local']);
  });

  it('replaces a host address on cache-flush (DHCP gave it a new one)', () => {
    const cache = new MdnsRecordCache();
    cache.ingest(response(pi), 0);
    cache.ingest(
      response([
        { type: 'A', name: 'raspberrypi.local', ttl: 120, data: '198.18.0.99', flush: true },
      ]),
      5000,
    );
    expect(cache.services('eth0')[0]?.addresses).toEqual(['198.18.0.99']);
  });

  it('bounds records and TXT, and caps TTLs', () => {
    const cache = new MdnsRecordCache({ maxRecords: 100 });
    const records = Array.from({ length: 500 }, (_, i) => ({
      type: 'PTR',
      name: '_ssh._tcp.local',
      ttl: 2 ** 31,
      data: `n${i}._ssh._tcp.local`,
    }));
    cache.ingest({ answers: records, additionals: records }, 0);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(cache.nextExpiry()).toBeLessThanOrEqual(75 * 60 * 1000);
    const huge = new MdnsRecordCache();
    huge.ingest(
      response(
        serviceRecords({
          type: '_hearth._tcp',
          instance: 'h',
          host: 'h.local',
          addresses: ['10.0.0.1'],
          txt: [...Array.from({ length: 300 }, (_, i) => `k${i}=v`), `id=${'x'.repeat(70_000)}`],
        }),
      ),
      0,
    );
    const txt = huge.services('eth0')[0]?.txt ?? {};
    expect(Object.keys(txt).length).toBeLessThanOrEqual(16);
  });

  it('skips records of the wrong shape without throwing', () => {
    const cache = new MdnsRecordCache();
    const junk: unknown[] = [
      null,
      42,
      { type: 'SRV', name: 'a._ssh._tcp.local', ttl: 10, data: null },
      { type: 'SRV', name: 'a._ssh._tcp.local', ttl: 10, data: { target: 5, port: 'x' } },
      { type: 'A', name: 'h.local', ttl: NaN, data: '1.2.3.4' },
      { type: 'A', name: 'h.local', ttl: 10, data: '999.1.1.1' },
      { type: 'PTR', name: {}, ttl: 10, data: [] },
      { type: 'TXT', name: 'a._ssh._tcp.local', ttl: 10, data: [{}, 7, null] },
    ];
    expect(() => cache.ingest({ answers: junk, additionals: 'nope' }, 0)).not.toThrow();
    expect(() => cache.ingest({}, 0)).not.toThrow();
  });
});
