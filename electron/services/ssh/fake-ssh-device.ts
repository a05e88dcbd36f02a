// An in-process SSH device for tests: a real ssh2.Server on 127.0.0.1 (port 0) that records
// every sign-in attempt, runs scripted commands, keeps SFTP writes in memory, and can be
// made to misbehave (drop the link, stall, send garbage). Tests only; never shipped.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Server, utils, type ParsedKey, type ServerChannel, type SFTPWrapper } from 'ssh2';
import { generateEd25519 } from '../keys/ed25519-keygen';
import { fingerprintOf } from './host-key-fingerprint';

const { STATUS_CODE } = utils.sftp;

export interface AuthAttempt {
  method: string;
  username: string;
}

/** Runs one command; the fake's default understands a handful (see defaultCommands). */
export type CommandHandler = (
  command: string,
  channel: ServerChannel,
  device: FakeSshDevice,
) => void;

export interface FakeSshDeviceOptions {
  /** PEM/OpenSSH private host key; a fresh ed25519 key when omitted. */
  hostKey?: string;
  username?: string;
  password?: string;
  /** authorized_keys lines ("ssh-ed25519 AAAA… comment") accepted for public key sign-in. */
  authorizedKeys?: string[];
  onCommand?: CommandHandler;
}

export function newHostKey(): string {
  return generateEd25519('fake-device').privateKey;
}

export function publicBlobOf(privateKey: string): Buffer {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  return parsed.getPublicSSH();
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Commands the default handler understands:
 *   cat               echo stdin back to stdout
 *   exit N            exit with status N
 *   fail TEXT         TEXT on stderr, status 1
 *   echo TEXT         TEXT on stdout, status 0
 */
export const defaultCommands: CommandHandler = (command, channel) => {
  const [verb, ...rest] = command.split(' ');
  const arg = rest.join(' ');
  if (verb === 'cat') {
    channel.on('data', (chunk: Buffer) => channel.write(chunk));
    channel.on('end', () => {
      channel.exit(0);
      channel.end();
    });
    return;
  }
  if (verb === 'exit') {
    channel.exit(Number(arg));
  } else if (verb === 'fail') {
    channel.stderr.write(arg);
    channel.exit(1);
  } else if (verb === 'echo') {
    channel.write(`${arg}\n`);
    channel.exit(0);
  } else {
    channel.stderr.write(`${verb}: command not found\n`);
    channel.exit(127);
  }
  channel.end();
};

export class FakeSshDevice {
  readonly authAttempts: AuthAttempt[] = [];
  readonly commands: string[] = [];
  readonly files = new Map<string, { data: Buffer; mode: number | undefined }>();
  /** Channels that ended (closed by either side), for "the channel was closed" checks. */
  closedChannels = 0;
  readonly hostKeyFingerprint: string;
  readonly #ssh: Server;
  readonly #tcp: NetServer;
  readonly #sockets = new Set<Socket>();

  private constructor(options: FakeSshDeviceOptions) {
    const hostKey = options.hostKey ?? newHostKey();
    this.hostKeyFingerprint = fingerprintOf(publicBlobOf(hostKey));
    const allowed = (options.authorizedKeys ?? []).map((line) => {
      const parsed = utils.parseKey(line);
      if (parsed instanceof Error) throw parsed;
      return parsed;
    });
    this.#ssh = new Server({ hostKeys: [hostKey] }, (conn) => {
      conn.on('error', () => undefined);
      conn.on('authentication', (ctx) => {
        this.authAttempts.push({ method: ctx.method, username: ctx.username });
        const userOk = ctx.username === (options.username ?? 'pi');
        if (ctx.method === 'password' && userOk && ctx.password === options.password)
          return ctx.accept();
        if (ctx.method === 'publickey' && userOk) {
          const key = allowed.find(
            (k: ParsedKey) => k.type === ctx.key.algo && sameBytes(k.getPublicSSH(), ctx.key.data),
          );
          // Without a signature the client only asks whether the key would do.
          if (key && (!ctx.signature || key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)))
            return ctx.accept();
        }
        ctx.reject(['password', 'publickey']);
      });
      conn.on('ready', () => {
        conn.on('session', (acceptSession) => {
          const session = acceptSession();
          session.on('exec', (accept, _reject, info) => {
            const channel = accept();
            channel.on('error', () => undefined);
            channel.on('close', () => (this.closedChannels += 1));
            // Keep reading (handlers add 'data' listeners in this tick), or a close from
            // the client is never noticed.
            channel.resume();
            this.commands.push(info.command);
            (options.onCommand ?? defaultCommands)(info.command, channel, this);
          });
          session.on('sftp', (accept) => this.#serveSftp(accept()));
        });
      });
    });
    this.#tcp = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      this.#ssh.injectSocket(socket);
    });
  }

  static async start(options: FakeSshDeviceOptions = {}): Promise<FakeSshDevice> {
    const device = new FakeSshDevice(options);
    await new Promise<void>((resolve) => device.#tcp.listen(0, '127.0.0.1', resolve));
    return device;
  }

  get port(): number {
    return (this.#tcp.address() as AddressInfo).port;
  }

  /** Cuts every connection at the TCP level, as a pulled cable or a crash would. */
  dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }

  /** Just enough SFTP for writeFile: OPEN, FSETSTAT, WRITE, CLOSE, into `files`. */
  #serveSftp(sftp: SFTPWrapper): void {
    sftp.on('error', () => undefined);
    const open = new Map<string, { path: string; chunks: Buffer[]; mode: number | undefined }>();
    let next = 0;
    sftp.on('OPEN', (reqId, filename, _flags, attrs) => {
      if (!filename.startsWith('/')) return sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
      const handle = Buffer.from(String(next++));
      open.set(handle.toString(), { path: filename, chunks: [], mode: attrs.mode });
      sftp.handle(reqId, handle);
    });
    sftp.on('FSETSTAT', (reqId, handle, attrs) => {
      const file = open.get(handle.toString());
      if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE);
      file.mode = attrs.mode ?? file.mode;
      sftp.status(reqId, STATUS_CODE.OK);
    });
    sftp.on('WRITE', (reqId, handle, _offset, data) => {
      const file = open.get(handle.toString());
      if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE);
      file.chunks.push(Buffer.from(data));
      sftp.status(reqId, STATUS_CODE.OK);
    });
    sftp.on('CLOSE', (reqId, handle) => {
      const file = open.get(handle.toString());
      if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE);
      open.delete(handle.toString());
      this.files.set(file.path, { data: Buffer.concat(file.chunks), mode: file.mode });
      sftp.status(reqId, STATUS_CODE.OK);
    });
  }
}

/** A TCP server that is not an SSH device: it stalls, or talks nonsense. */
export class RawTcpDevice {
  readonly #tcp: NetServer;
  readonly #sockets = new Set<Socket>();

  private constructor(onSocket: (socket: Socket) => void) {
    this.#tcp = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      // Read (and drop) whatever the client sends, so its hang-up is noticed.
      socket.resume();
      onSocket(socket);
    });
  }

  static async start(onSocket: (socket: Socket) => void): Promise<RawTcpDevice> {
    const device = new RawTcpDevice(onSocket);
    await new Promise<void>((resolve) => device.#tcp.listen(0, '127.0.0.1', resolve));
    return device;
  }

  get port(): number {
    return (this.#tcp.address() as AddressInfo).port;
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
