import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { run, tryRun } from './command';
import { lanPrefix } from './addresses';
import { lanNetns, netnsPrefix } from './paths';

/**
 * The LAN's bridges live in their own namespace, so the machine's own network namespace never
 * sees a lab interface, address or route.
 */
export const lanBridge = 'br-lan';
export const secondBridge = 'br-second';

export const ip = (netns: string, ...args: string[]): Promise<string> =>
  run(['ip', '-n', netns, ...args]);

export async function addNetns(name: string): Promise<void> {
  if (!existsSync(`/run/netns/${name}`)) await run(['ip', 'netns', 'add', name]);
  await ip(name, 'link', 'set', 'lo', 'up');
}

export async function labNetnsNames(): Promise<string[]> {
  if (!existsSync('/run/netns')) return [];
  return (await readdir('/run/netns')).filter((n) => n.startsWith(netnsPrefix));
}

export async function deleteNetns(name: string): Promise<void> {
  await tryRun(['ip', 'netns', 'del', name]);
}

export async function pidsInNetns(name: string): Promise<number[]> {
  const r = await tryRun(['ip', 'netns', 'pids', name]);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 0);
}

export async function createLan(): Promise<void> {
  await addNetns(lanNetns);
  for (const bridge of [lanBridge, secondBridge]) {
    await ip(lanNetns, 'link', 'add', bridge, 'type', 'bridge');
    // No STP and no forwarding delay: a replugged cable must work at once, as on a home switch.
    await ip(
      lanNetns,
      'link',
      'set',
      bridge,
      'type',
      'bridge',
      'stp_state',
      '0',
      'forward_delay',
      '0',
    );
    await ip(lanNetns, 'link', 'set', bridge, 'up');
  }
}

/**
 * Plugs `netns` into a bridge of the LAN namespace: `inside` is the interface the namespace sees,
 * `outside` the bridge port (what cut/heal/shape act on).
 */
export async function plug(opts: {
  netns: string;
  inside: string;
  outside: string;
  bridge: string;
  address: string;
}): Promise<void> {
  const tmp = `t${opts.outside}`.slice(0, 15);
  await ip(lanNetns, 'link', 'add', opts.outside, 'type', 'veth', 'peer', 'name', tmp);
  await ip(lanNetns, 'link', 'set', tmp, 'netns', opts.netns);
  await ip(opts.netns, 'link', 'set', tmp, 'name', opts.inside);
  await ip(opts.netns, 'addr', 'add', `${opts.address}/${lanPrefix}`, 'dev', opts.inside);
  await ip(opts.netns, 'link', 'set', opts.inside, 'up');
  await ip(lanNetns, 'link', 'set', opts.outside, 'master', opts.bridge);
  await ip(lanNetns, 'link', 'set', opts.outside, 'up');
}

export async function setLink(outside: string, up: boolean): Promise<void> {
  await ip(lanNetns, 'link', 'set', outside, up ? 'up' : 'down');
}

/**
 * Home-speed links. Both directions are shaped: the device's egress on its own interface, its
 * ingress on the bridge port. netem carries rate and delay; kernels without sch_netem (this
 * machine's) get a tbf for the rate and the delay is reported as not applied.
 */
export async function shapeLink(
  pairs: { netns: string; dev: string }[],
  rate: string,
  delay?: string,
): Promise<{ delayApplied: boolean }> {
  let delayApplied = true;
  for (const { netns, dev } of pairs) {
    const netem = await tryRun([
      'tc',
      '-n',
      netns,
      'qdisc',
      'replace',
      'dev',
      dev,
      'root',
      'netem',
      'rate',
      rate,
      ...(delay ? ['delay', delay] : []),
    ]);
    if (netem.code === 0) continue;
    delayApplied = !delay;
    await run([
      'tc',
      '-n',
      netns,
      'qdisc',
      'replace',
      'dev',
      dev,
      'root',
      'tbf',
      'rate',
      rate,
      'burst',
      '256kb',
      'latency',
      '50ms',
    ]);
  }
  return { delayApplied };
}

export async function unshapeLink(pairs: { netns: string; dev: string }[]): Promise<void> {
  for (const { netns, dev } of pairs)
    await tryRun(['tc', '-n', netns, 'qdisc', 'del', 'dev', dev, 'root']);
}
