/**
 * What the laptop sees, run on the laptop side of the lab (inside its network namespace, where
 * Hearth's services will run): `tsx e2e/lab/laptop-probe.ts <probe> [--key value]...`.
 * Prints one JSON line and exits 0 even when the probe's answer is "no": the caller judges.
 *   ssh   --host H --user U --password P --fingerprint SHA256:... [--command CMD] [--timeout MS]
 *   mdns  --type ssh [--timeout MS] [--interface IP]
 *   tcp   --host H --port P [--timeout MS]
 *   http  --url URL [--timeout MS]
 */
import { Bonjour } from 'bonjour-service';
import type { Service } from 'bonjour-service';
import { Client } from 'ssh2';
import { connect } from 'node:net';
import { fingerprintOfBlob } from './host-keys';

export interface SshProbe {
  ok: boolean;
  fingerprint?: string;
  code?: number;
  stdout?: string;
  stderr?: string;
  error?: string;
}

export function probeSsh(opts: {
  host: string;
  user: string;
  password: string;
  fingerprint: string;
  command?: string;
  timeoutMs?: number;
}): Promise<SshProbe> {
  return new Promise((resolve) => {
    const client = new Client();
    let seen: string | undefined;
    let done = false;
    const finish = (r: SshProbe): void => {
      if (done) return;
      done = true;
      client.end();
      resolve({ ...(seen ? { fingerprint: seen } : {}), ...r });
    };
    client.on('error', (e) => finish({ ok: false, error: e.message }));
    // A server that hangs up before the handshake ends gives 'close' and no 'error'.
    client.on('close', () => {
      if (!done) finish({ ok: false, error: 'connection closed before the session ended' });
    });
    client.on('ready', () => {
      if (opts.command === undefined) return finish({ ok: true });
      client.exec(opts.command, (err, stream) => {
        if (err) return finish({ ok: false, error: err.message });
        let stdout = '';
        let stderr = '';
        stream.on('data', (b: Buffer) => (stdout += b.toString()));
        stream.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        stream.on('close', (code: number | null) =>
          finish({ ok: true, code: code ?? -1, stdout, stderr }),
        );
      });
    });
    client.connect({
      host: opts.host,
      port: 22,
      username: opts.user,
      password: opts.password,
      readyTimeout: opts.timeoutMs ?? 10_000,
      // Refuse a key other than the one the lab reported, before authenticating.
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOfBlob(key);
        return seen === opts.fingerprint;
      },
    });
  });
}

export interface MdnsService {
  name: string;
  host: string;
  port: number;
  type: string;
  addresses: string[];
  /** TXT record, e.g. a Hearth device's id, arch and hv. */
  txt: Record<string, string>;
}

export async function probeMdns(opts: {
  type: string;
  timeoutMs?: number;
  interface?: string;
}): Promise<{ services: MdnsService[]; firstMs?: number }> {
  const started = Date.now();
  // bonjour-service hands its options to multicast-dns, whose `interface` its types omit.
  // multicast-dns binds to `interface` unless told otherwise, and a socket bound to a unicast
  // address never receives multicast answers on Linux: bind to any address, join on one.
  type Options = ConstructorParameters<typeof Bonjour>[0];
  const bonjour = new Bonjour(
    (opts.interface ? { interface: opts.interface, bind: '0.0.0.0' } : {}) as Options,
  );
  const services: MdnsService[] = [];
  let firstMs: number | undefined;
  const browser = bonjour.find({ type: opts.type }, (s: Service) => {
    firstMs ??= Date.now() - started;
    services.push({
      name: s.name,
      host: s.host,
      port: s.port,
      type: s.type,
      addresses: s.addresses ?? [],
      txt: Object.fromEntries(
        Object.entries((s.txt ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
    });
  });
  await new Promise((r) => setTimeout(r, opts.timeoutMs ?? 3000));
  browser.stop();
  await new Promise<void>((r) => bonjour.destroy(() => r()));
  return firstMs === undefined ? { services } : { services, firstMs };
}

export function probeTcp(opts: {
  host: string;
  port: number;
  timeoutMs?: number;
}): Promise<{ ok: boolean; ms: number; error?: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: opts.host, port: opts.port });
    const done = (ok: boolean, error?: string): void => {
      socket.destroy();
      resolve({ ok, ms: Date.now() - started, ...(error ? { error } : {}) });
    };
    socket.setTimeout(opts.timeoutMs ?? 3000, () => done(false, 'timeout'));
    socket.on('connect', () => done(true));
    socket.on('error', (e) => done(false, e.message));
  });
}

export async function probeHttp(opts: {
  url: string;
  timeoutMs?: number;
}): Promise<{ ok: boolean; status?: number; body?: string; error?: string }> {
  try {
    const res = await fetch(opts.url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
    return { ok: res.ok, status: res.status, body: await res.text() };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function options(args: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const k = args[i];
    const v = args[i + 1];
    if (!k?.startsWith('--') || v === undefined) throw new Error(`bad option ${k ?? ''}`);
    m.set(k.slice(2), v);
  }
  return m;
}

async function main(argv: readonly string[]): Promise<unknown> {
  const [kind, ...rest] = argv;
  const o = options(rest);
  const need = (k: string): string => {
    const v = o.get(k);
    if (v === undefined) throw new Error(`${kind ?? ''} needs --${k}`);
    return v;
  };
  const timeout = o.has('timeout') ? Number(o.get('timeout')) : undefined;
  switch (kind) {
    case 'ssh': {
      const command = o.get('command');
      return probeSsh({
        host: need('host'),
        user: need('user'),
        password: need('password'),
        fingerprint: need('fingerprint'),
        ...(command === undefined ? {} : { command }),
        ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      });
    }
    case 'mdns': {
      const iface = o.get('interface');
      return probeMdns({
        type: need('type'),
        ...(iface === undefined ? {} : { interface: iface }),
        ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      });
    }
    case 'tcp':
      return probeTcp({
        host: need('host'),
        port: Number(need('port')),
        ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      });
    case 'http':
      return probeHttp({
        url: need('url'),
        ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      });
    default:
      throw new Error(`unknown probe ${kind ?? ''}`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main(process.argv.slice(2)).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0)),
    (e: unknown) =>
      process.stdout.write(`${JSON.stringify({ ok: false, error: (e as Error).message })}\n`, () =>
        process.exit(2),
      ),
  );
}
