import { EventEmitter } from 'node:events';
import type { NetworkInterfaceInfo } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { DiscoveryService } from './discovery-service';
import type { LanInterface } from './interfaces';
import type { MdnsQuestion, MdnsTransport } from './mdns-browser';
import type { PacketLike } from './mdns-records';
import type { ProbeSocket, TcpConnector } from './ssh-probe';
import { FP_A, goodbye, response, serviceRecords } from './test-helpers';
import type { DiscoveredDevice, InterfaceStatus } from './types';

class FakeTransport implements MdnsTransport {
  readonly queries: MdnsQuestion[][] = [];
  destroyed = false;
  #response: ((packet: PacketLike, rinfo: { address: string }) => void)[] = [];
  #error: ((error: Error, fatal: boolean) => void)[] = [];
  #ready: (() => void)[] = [];
  constructor(readonly iface: LanInterface) {}
  onResponse(l: (packet: PacketLike, rinfo: { address: string }) => void) {
    this.#response.push(l);
  }
  onReady(l: () => void) {
    this.#ready.push(l);
  }
  onError(l: (error: Error, fatal: boolean) => void) {
    this.#error.push(l);
  }
  query(questions: MdnsQuestion[]) {
    this.queries.push(questions);
  }
  destroy() {
    this.destroyed = true;
  }
  emit(packet: PacketLike) {
    for (const l of this.#response) l(packet, { address: '0.0.0.0' });
  }
  ready() {
    for (const l of this.#ready) l();
  }
  fail(error: Error) {
    for (const l of this.#error) l(error, true);
  }
}

function ipv4(address: string, netmask = '255.255.255.0'): NetworkInterfaceInfo {
  return {
    address,
    netmask,
    family: 'IPv4',
    mac: '00:00:00:00:00:00',
    internal: false,
    cidr: null,
  };
}

/** A TCP connector whose sockets answer as a table says. */
function fakeConnector(
  answers: Record<string, { banner?: string; error?: string; silent?: boolean }>,
  log: string[] = [],
): TcpConnector {
  return (host, port) => {
    log.push(`${host}:${port}`);
    const socket = new EventEmitter() as EventEmitter & ProbeSocket;
    socket.destroy = () => undefined;
    const answer = answers[host] ?? { error: 'EHOSTUNREACH' };
    queueMicrotask(() => {
      if (answer.banner !== undefined) {
        socket.emit('connect');
        socket.emit('data', Buffer.from(answer.banner));
      } else if (answer.error) {
        socket.emit('error', Object.assign(new Error(answer.error), { code: answer.error }));
      }
    });
    return socket;
  };
}

let transports: FakeTransport[];
let published: DiscoveredDevice[][];
let statuses: InterfaceStatus[][];
let ifaces: Record<string, NetworkInterfaceInfo[]>;

function makeService(extra: Partial<ConstructorParameters<typeof DiscoveryService>[0]> = {}) {
  return new DiscoveryService({
    clock: { now: () => Date.now() },
    publish: (devices) => published.push(devices),
    onInterfaceStatus: (s) => statuses.push(s),
    interfaces: () => ifaces,
    mdnsTransport: (iface) => {
      const t = new FakeTransport(iface);
      transports.push(t);
      return t;
    },
    connect: fakeConnector({}),
    dnsLookup: () => Promise.reject(new Error('ENOTFOUND')),
    ...extra,
  });
}

const piRecords = serviceRecords({
  type: '_ssh._tcp',
  instance: 'raspberrypi',
  host: 'raspberrypi.local',
  addresses: ['192.168.1.10'],
});

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  transports = [];
  published = [];
  statuses = [];
  ifaces = {
    lo: [{ ...ipv4('127.0.0.1', '255.0.0.0'), internal: true }],
    eth0: [ipv4('192.168.1.2')],
  };
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DiscoveryService over mDNS (fake sockets)', () => {
  it('opens one socket per non-internal IPv4 address and asks for every type', () => {
    ifaces.wlan0 = [ipv4('10.0.0.2')];
    const service = makeService();
    service.start();
    expect(transports.map((t) => t.iface.address).sort()).toEqual(['10.0.0.2', '192.168.1.2']);
    const asked = transports[0]?.queries[0]?.map((q) => q.name).sort();
    expect(asked).toEqual([
      '_hearth._tcp.local',
      '_sftp-ssh._tcp.local',
      '_ssh._tcp.local',
      '_workstation._tcp.local',
    ]);
    service.stop();
  });

  it('publishes appear and goodbye, coalesced', () => {
    const service = makeService();
    service.start();
    vi.advanceTimersByTime(200);
    published.length = 0;
    const t = transports[0]!;
    t.emit(response(piRecords));
    t.emit(
      response(
        serviceRecords({
          type: '_sftp-ssh._tcp',
          instance: 'raspberrypi',
          host: 'raspberrypi.local',
          addresses: ['192.168.1.10'],
        }),
      ),
    );
    expect(published).toHaveLength(0);
    vi.advanceTimersByTime(100);
    expect(published).toHaveLength(1);
    expect(published[0]).toEqual([
      expect.objectContaining({
        key: 'host:raspberrypi.local',
        services: ['ssh', 'sftp-ssh'],
        interfaces: ['eth0'],
      }),
    ]);
    t.emit(goodbye(piRecords.slice(0, 1)));
    vi.advanceTimersByTime(100);
    expect(published.at(-1)?.[0]?.services).toEqual(['sftp-ssh']);
    service.stop();
  });

  it('drops a device whose records are not refreshed, and keeps one that is', () => {
    const service = makeService();
    service.start();
    transports[0]!.emit(response(piRecords));
    vi.advanceTimersByTime(60_000);
    transports[0]!.emit(response(piRecords)); // refreshed at 60 s
    vi.advanceTimersByTime(100_000); // 160 s: the first copy would have expired at 120 s
    expect(service.list()).toHaveLength(1);
    vi.advanceTimersByTime(30_000); // 190 s: past 60 s + 120 s
    expect(service.list()).toHaveLength(0);
    expect(published.at(-1)).toEqual([]);
    service.stop();
  });

  it('re-queries periodically', () => {
    const service = makeService({ requeryMs: 10_000 });
    service.start();
    const t = transports[0]!;
    const before = t.queries.length;
    vi.advanceTimersByTime(30_000);
    expect(t.queries.length).toBeGreaterThanOrEqual(before + 3);
    service.stop();
  });

  it('re-creates browsers when interfaces change', () => {
    const service = makeService({ interfacePollMs: 2_000 });
    service.start();
    transports[0]!.emit(response(piRecords));
    vi.advanceTimersByTime(200);
    expect(service.list()).toHaveLength(1);
    ifaces = { wlan0: [ipv4('10.0.0.2')] };
    vi.advanceTimersByTime(2_000);
    expect(transports[0]!.destroyed).toBe(true);
    expect(transports[1]?.iface.address).toBe('10.0.0.2');
    expect(service.list()).toHaveLength(0);
    expect(service.interfaceStatus().map((s) => s.name)).toEqual(['wlan0']);
    service.stop();
  });

  it('reports a failed interface and keeps the others working', () => {
    ifaces.wlan0 = [ipv4('10.0.0.2')];
    const service = makeService();
    service.start();
    const [a, b] = transports;
    a!.fail(Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE' }));
    b!.ready();
    expect(a!.destroyed).toBe(true);
    const status = service.interfaceStatus();
    expect(status.find((s) => s.address === a!.iface.address)).toMatchObject({
      state: 'failed',
      error: 'EADDRINUSE',
    });
    expect(status.find((s) => s.address === b!.iface.address)?.state).toBe('listening');
    b!.emit(response(piRecords));
    vi.advanceTimersByTime(200);
    expect(service.list()).toHaveLength(1);
    expect(statuses.length).toBeGreaterThan(0);
    service.stop();
  });

  it('merges entries when the SSH layer reports a shared host key', () => {
    const service = makeService();
    service.start();
    transports[0]!.emit(response(piRecords));
    transports[0]!.emit(
      response(
        serviceRecords({
          type: '_ssh._tcp',
          instance: 'raspberrypi-2',
          host: 'raspberrypi-2.local',
          addresses: ['192.168.1.11'],
        }),
      ),
    );
    expect(service.list()).toHaveLength(2);
    service.learnHostKey('192.168.1.10', FP_A);
    expect(service.learnHostKey('192.168.1.11', FP_A)).toBe(`ssh:${FP_A}`);
    vi.advanceTimersByTime(200);
    expect(published.at(-1)).toHaveLength(1);
    service.stop();
  });

  it('stop() closes every socket and leaves no timers', () => {
    const service = makeService();
    service.start();
    transports[0]!.emit(response(piRecords));
    service.stop();
    expect(transports.every((t) => t.destroyed)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('addByAddress', () => {
  it('adds a manual entry from the SSH banner of an IPv4 address', async () => {
    const log: string[] = [];
    const service = makeService({
      connect: fakeConnector(
        { '192.168.1.50': { banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' } },
        log,
      ),
    });
    const device = await service.addByAddress('192.168.1.50');
    expect(log).toEqual(['192.168.1.50:22']);
    expect(device).toMatchObject({
      key: 'address:192.168.1.50',
      source: 'manual',
      description: 'Computer running Debian',
      interfaces: ['eth0'],
      sshPort: 22,
    });
    service.stop();
  });

  it('answers each failure with a clear HearthError', async () => {
    const service = makeService({
      connect: fakeConnector({
        '10.1.1.1': { error: 'ECONNREFUSED' },
        '10.1.1.2': { silent: true },
        '10.1.1.3': { banner: 'HTTP/1.1 400 Bad\r\n' },
      }),
    });
    await expect(service.addByAddress('10.1.1.1')).rejects.toMatchObject({
      code: 'DEVICE_REFUSED',
    });
    await expect(service.addByAddress('10.1.1.9')).rejects.toMatchObject({
      code: 'DEVICE_UNREACHABLE',
    });
    await expect(service.addByAddress('10.1.1.3')).rejects.toMatchObject({
      code: 'DEVICE_REFUSED',
    });
    const slow = service.addByAddress('10.1.1.2');
    const check = expect(slow).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(3_000);
    await check;
    await expect(service.addByAddress('nope.example')).rejects.toMatchObject({
      code: 'DEVICE_UNREACHABLE',
    });
    await expect(service.addByAddress('not an address!')).rejects.toBeInstanceOf(HearthError);
    await expect(service.addByAddress('224.0.0.251')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(service.list()).toEqual([]);
  });

  it('resolves name.local with a one-shot mDNS A question', async () => {
    const service = makeService({
      connect: fakeConnector({
        '192.168.1.77': { banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\n' },
      }),
    });
    const pending = service.addByAddress('debian.local');
    const t = transports[0]!;
    expect(t.queries.at(-1)).toEqual([{ name: 'debian.local', type: 'A' }]);
    t.emit(response([{ type: 'A', name: 'debian.local', ttl: 120, data: '192.168.1.77' }]));
    const device = await pending;
    expect(device).toMatchObject({
      key: 'host:debian.local',
      hostnames: ['debian.local'],
      addresses: ['192.168.1.77'],
    });
    expect(t.destroyed).toBe(true); // the temporary socket is closed again
    expect(vi.getTimerCount()).toBeLessThanOrEqual(1); // only the publish timer
    await vi.advanceTimersByTimeAsync(200);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives up on an unanswered name.local', async () => {
    const service = makeService();
    const pending = service.addByAddress('ghost.local');
    const check = expect(pending).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    await vi.advanceTimersByTimeAsync(2_000);
    await check;
  });
});

describe('scanSubnets', () => {
  it('scans only the own /24s, with progress, and lists what answers SSH', async () => {
    ifaces.tun0 = [ipv4('10.8.0.2', '255.255.255.255')];
    ifaces.docker0 = [ipv4('172.17.0.1', '255.255.0.0')];
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const inner = fakeConnector(
      {
        '192.168.1.10': { banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' },
        '172.17.0.5': { banner: 'SSH-2.0-OpenSSH_7.9p1 Raspbian-10+deb10u2\r\n' },
        '192.168.1.11': { error: 'ECONNREFUSED' },
      },
      log,
    );
    const connect: TcpConnector = (host, port) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const socket = inner(host, port) as EventEmitter & ProbeSocket;
      socket.destroy = () => {
        inFlight--;
      };
      return socket;
    };
    const service = makeService({ connect, scanConcurrency: 8 });
    const progress: [number, number][] = [];
    const found = await service.scanSubnets({
      onProgress: (p) => progress.push([p.done, p.total]),
    });
    expect(log).toHaveLength(506);
    expect(log.every((a) => /^(192\.168\.1|172\.17\.0)\.\d+:22$/.test(a))).toBe(true);
    expect(log).not.toContain('192.168.1.2:22');
    expect(log).not.toContain('172.17.0.1:22');
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(progress.at(-1)).toEqual([506, 506]);
    expect(found.map((d) => [d.addresses[0], d.source, d.description]).sort()).toEqual([
      ['172.17.0.5', 'scan', 'Raspberry Pi running Raspberry Pi OS'],
      ['192.168.1.10', 'scan', 'Computer running Debian'],
    ]);
  });

  it('stops promptly on cancel', async () => {
    const log: string[] = [];
    const silent: TcpConnector = (host, port) => {
      log.push(`${host}:${port}`);
      const socket = new EventEmitter() as EventEmitter & ProbeSocket;
      socket.destroy = () => undefined;
      return socket;
    };
    const s2 = makeService({ connect: silent, scanConcurrency: 4 });
    const controller = new AbortController();
    const scan = s2.scanSubnets({ signal: controller.signal });
    const check = expect(scan).rejects.toMatchObject({ code: 'CANCELLED' });
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort();
    await check;
    expect(log).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(log).toHaveLength(4);
    expect(vi.getTimerCount()).toBe(0);
  });
});
