// An in-process SSH device for tests: a real ssh2.Server on 127.0.0.1 (port 0) that records
// every sign-in attempt, runs scripted commands, keeps SFTP writes in memory, and can be
// made to misbehave (drop the link, stall, send garbage). Tests only; never shipped.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
// ssh2 is CommonJS: a default import, so plain Node (the bench's devices) loads this too.
import ssh2, { type ParsedKey, type ServerChannel, type SFTPWrapper } from 'ssh2';
import type { Server as SshServer } from 'ssh2';
import { generateEd25519 } from '../keys/ed25519-keygen';
import { fingerprintOf } from './host-key-fingerprint';

const { Server, utils } = ssh2;
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
  /** Called after each SFTP write lands, with the file's size so far (to cut an upload). */
  onSftpWrite?: (path: string, size: number, device: FakeSshDevice) => void;
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
  readonly #ssh: SshServer;
  readonly #tcp: NetServer;
  readonly #sockets = new Set<Socket>();

  readonly #options: FakeSshDeviceOptions;

  private constructor(options: FakeSshDeviceOptions) {
    this.#options = options;
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

  /** Stops reading from every connection without closing it: a device that hangs. */
  freeze(): void {
    for (const socket of this.#sockets) socket.pause();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }

  /**
   * Just enough SFTP for writeFile and uploadFile: OPEN (truncating or not), FSETSTAT, STAT,
   * WRITE at an offset, CLOSE. Writes land in `files` as they arrive, as on a real disk, so
   * a cut connection leaves the part that was sent.
   */
  #serveSftp(sftp: SFTPWrapper): void {
    sftp.on('error', () => undefined);
    const open = new Map<string, string>();
    let next = 0;
    sftp.on('OPEN', (reqId, filename, flags, attrs) => {
      if (!filename.startsWith('/')) return sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
      const existing = this.files.get(filename);
      const truncate = (flags & utils.sftp.OPEN_MODE.TRUNC) !== 0;
      if (!existing && (flags & utils.sftp.OPEN_MODE.CREAT) === 0)
        return sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
      this.files.set(filename, {
        data: truncate || !existing ? Buffer.alloc(0) : existing.data,
        mode: attrs.mode ?? existing?.mode,
      });
      const handle = Buffer.from(String(next++));
      open.set(handle.toString(), filename);
      sftp.handle(reqId, handle);
    });
    sftp.on('STAT', (reqId, path) => {
      const file = this.files.get(path);
      if (!file) return sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
      sftp.attrs(reqId, {
        mode: file.mode ?? 0o644,
        size: file.data.length,
        uid: 0,
        gid: 0,
        atime: 0,
        mtime: 0,
      });
    });
    const fileOf = (handle: Buffer) => {
      const path = open.get(handle.toString());
      const file = path === undefined ? undefined : this.files.get(path);
      return path === undefined || !file ? null : { path, file };
    };
    sftp.on('FSETSTAT', (reqId, handle, attrs) => {
      const found = fileOf(handle);
      if (!found) return sftp.status(reqId, STATUS_CODE.FAILURE);
      found.file.mode = attrs.mode ?? found.file.mode;
      sftp.status(reqId, STATUS_CODE.OK);
    });
    sftp.on('WRITE', (reqId, handle, offset, data) => {
      const found = fileOf(handle);
      if (!found) return sftp.status(reqId, STATUS_CODE.FAILURE);
      const { data: before } = found.file;
      const after = Buffer.alloc(Math.max(before.length, offset + data.length));
      before.copy(after);
      Buffer.from(data).copy(after, offset);
      found.file.data = after;
      sftp.status(reqId, STATUS_CODE.OK);
      this.#options.onSftpWrite?.(found.path, after.length, this);
    });
    sftp.on('CLOSE', (reqId, handle) => {
      if (!open.delete(handle.toString())) return sftp.status(reqId, STATUS_CODE.FAILURE);
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
