import { describe, expect, it } from 'vitest';
import { LinkHosts, type Resolve } from './link-host';

const pi = { id: 'd1', hostname: 'living-room-pi', addresses: ['192.168.1.20'] };

/** Lets the background lookup finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function hostsAnswering(answers: Record<string, string[] | Error>) {
  const asked: string[] = [];
  const resolve: Resolve = (name) => {
    asked.push(name);
    const answer = answers[name];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? []);
  };
  let now = 0;
  const hosts = new LinkHosts(resolve, () => now);
  return { hosts, asked, later: (ms: number) => (now += ms) };
}

describe('the host an Open link uses', () => {
  it("is the device's .local name once this computer resolves it to the device", async () => {
    const { hosts, asked } = hostsAnswering({ 'living-room-pi.local': ['192.168.1.20'] });
    expect(hosts.hostFor(pi)).toBe('192.168.1.20');
    await settle();
    expect(hosts.hostFor(pi)).toBe('living-room-pi.local');
    expect(asked).toEqual(['living-room-pi.local']);
  });

  it('stays the address when the name does not resolve, or leads to another box', async () => {
    for (const answer of [new Error('ENOTFOUND'), [], ['192.168.1.99']]) {
      const { hosts } = hostsAnswering({ 'living-room-pi.local': answer });
      hosts.hostFor(pi);
      await settle();
      expect(hosts.hostFor(pi)).toBe('192.168.1.20');
    }
  });

  it('follows a new address at once when the name does not work', async () => {
    const { hosts } = hostsAnswering({});
    hosts.hostFor(pi);
    await settle();
    expect(hosts.hostFor({ ...pi, addresses: ['192.168.1.44'] })).toBe('192.168.1.44');
  });

  it('asks again only after a while, and never for a name that is not a host name', async () => {
    const { hosts, asked, later } = hostsAnswering({});
    hosts.hostFor(pi);
    await settle();
    hosts.hostFor(pi);
    await settle();
    expect(asked).toHaveLength(1);
    later(6 * 60_000);
    hosts.hostFor(pi);
    await settle();
    expect(asked).toHaveLength(2);
    hosts.hostFor({ id: 'd2', hostname: 'evil.example.com', addresses: ['10.0.0.1'] });
    await settle();
    expect(asked).toHaveLength(2);
  });
});
