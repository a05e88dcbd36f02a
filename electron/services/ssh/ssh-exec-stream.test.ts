import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import type { CommandHandler } from './fake-ssh-device';
import { MAX_STREAM_STDERR_BYTES } from './ssh-exec-stream';
import { failsWith, useFakeDevices } from './ssh-test-kit';

const MiB = 1024 * 1024;
const { sessionOn } = useFakeDevices();

/** The byte at `offset` of every payload here: not all one value, so order errors show. */
function block(offset: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (offset + i) % 251;
  return out;
}

const CHUNK = 64 * 1024;

/** A lazy source of `total` bytes; `made` counts what it was asked for so far. */
function source(total: number, made: { bytes: number }): Readable {
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (made.bytes >= total) return void this.push(null);
      const size = Math.min(CHUNK, total - made.bytes);
      this.push(block(made.bytes, size));
      made.bytes += size;
    },
  });
}

const expectedHash = (total: number) => {
  const hash = createHash('sha256');
  for (let at = 0; at < total; at += CHUNK) hash.update(block(at, Math.min(CHUNK, total - at)));
  return hash.digest('hex');
};

interface DeviceSide {
  sent: number;
  received: number;
  paused: boolean;
  closed: boolean;
}

/**
 * `source N`: N bytes, only as fast as the client opens its window. `sink`: hashes stdin
 * (reading only while `side.paused` is false) and prints the hash. `echo-back`: stdin to
 * stdout with backpressure. `stall`: one line, then nothing. `noisy`: 200 KiB of stderr.
 * Anything else exits 0.
 */
function handlers(side: DeviceSide): CommandHandler {
  return (command, channel) => {
    channel.on('close', () => (side.closed = true));
    const [verb, arg] = command.split(' ');
    if (verb === 'source') {
      const total = Number(arg);
      const pump = (): void => {
        while (!side.closed && side.sent < total) {
          const size = Math.min(CHUNK, total - side.sent);
          const more = channel.write(block(side.sent, size));
          side.sent += size;
          if (!more) return void channel.once('drain', pump);
        }
        if (!side.closed) {
          channel.exit(0);
          channel.end();
        }
      };
      pump();
    } else if (verb === 'sink') {
      const hash = createHash('sha256');
      channel.removeAllListeners('data');
      channel.pause();
      channel.on('data', (chunk: Buffer) => {
        side.received += chunk.length;
        hash.update(chunk);
      });
      const flow = (): void => {
        if (side.paused) return void setTimeout(flow, 20);
        channel.resume();
      };
      flow();
      channel.on('end', () => {
        channel.write(`${hash.digest('hex')}\n`);
        channel.exit(0);
        channel.end();
      });
    } else if (verb === 'echo-back') {
      channel.pipe(channel, { end: false });
      channel.on('end', () => {
        channel.exit(0);
        channel.end();
      });
    } else if (verb === 'stall') {
      channel.write('started\n');
    } else if (verb === 'noisy') {
      channel.stderr.write(Buffer.alloc(200 * 1024, 0x65));
      channel.exit(3);
      channel.end();
    } else if (verb === 'killed') {
      channel.exit('TERM', false, 'terminated');
      channel.end();
    } else {
      channel.exit(0);
      channel.end();
    }
  };
}

const newSide = (): DeviceSide => ({ sent: 0, received: 0, paused: false, closed: false });

function hashOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  return pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback();
      },
    }),
  ).then(() => hash.digest('hex'));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SshSession.execStream', () => {
  it('streams a big stdout only as fast as it is read', async () => {
    const side = newSide();
    const { session } = await sessionOn(handlers(side));
    const total = 24 * MiB;
    const { stdout, done } = session.execStream(`source ${total}`);
    // Read nothing for a while: the device must stop once the windows are full.
    await sleep(400);
    expect(side.sent).toBeGreaterThan(0);
    expect(side.sent).toBeLessThan(8 * MiB);
    expect(await hashOf(stdout)).toBe(expectedHash(total));
    expect(await done).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('holds a window or two in memory, not the payload (128 MiB through a slow reader)', async () => {
    const side = newSide();
    const { session } = await sessionOn(handlers(side));
    const total = 128 * MiB;
    const { stdout, done } = session.execStream(`source ${total}`);
    let read = 0;
    let peak = 0;
    const before = process.memoryUsage().heapUsed;
    await pipeline(
      stdout,
      new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          read += chunk.length;
          // A reader slower than the link: the device must wait for it, not the laptop buffer.
          if (read % (8 * MiB) < chunk.length) {
            peak = Math.max(peak, side.sent - read);
            setTimeout(callback, 5);
          } else callback();
        },
      }),
    );
    expect(read).toBe(total);
    expect((await done).code).toBe(0);
    // In flight between the device and the reader: the SSH windows and stream buffers only.
    expect(peak).toBeLessThan(8 * MiB);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * MiB);
  }, 60_000);

  it('streams a big stdin only as fast as the device takes it', async () => {
    const side = newSide();
    side.paused = true;
    const { session } = await sessionOn(handlers(side));
    const total = 24 * MiB;
    const made = { bytes: 0 };
    const { stdout, done } = session.execStream('sink', { stdin: source(total, made) });
    const answer = hashOf(stdout);
    await sleep(400);
    // The device reads nothing yet: only a window or two has left the source.
    expect(made.bytes).toBeLessThan(8 * MiB);
    side.paused = false;
    expect((await answer).length).toBe(64);
    expect(await done).toMatchObject({ code: 0 });
    expect(side.received).toBe(total);
  });

  it('carries a multi-MiB payload both ways intact', async () => {
    const { session } = await sessionOn(handlers(newSide()));
    const total = 12 * MiB + 12_345;
    const made = { bytes: 0 };
    const { stdout, done } = session.execStream('echo-back', { stdin: source(total, made) });
    expect(await hashOf(stdout)).toBe(expectedHash(total));
    expect((await done).code).toBe(0);
  });

  it('is CANCELLED mid-stream: the channel closes, the session stays usable', async () => {
    const side = newSide();
    const { device, session } = await sessionOn(handlers(side));
    const controller = new AbortController();
    const { stdout, done } = session.execStream(`source ${64 * MiB}`, {
      signal: controller.signal,
    });
    let read = 0;
    stdout.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > MiB) controller.abort();
    });
    await failsWith(done, 'CANCELLED');
    expect(stdout.destroyed).toBe(true);
    await expect.poll(() => device.closedChannels).toBe(1);
    expect(side.sent).toBeLessThan(16 * MiB);
    expect((await session.exec('true')).code).toBe(0);
  });

  it('rejects with CONNECTION_LOST when the link is cut mid-stream, both directions', async () => {
    const side = newSide();
    const { device, session } = await sessionOn(handlers(side));
    const out = session.execStream(`source ${64 * MiB}`);
    const made = { bytes: 0 };
    const into = session.execStream('sink', { stdin: source(64 * MiB, made) });
    const stdoutFailed = new Promise<unknown>((resolve) => out.stdout.once('error', resolve));
    out.stdout.once('data', () => device.dropConnections());
    out.stdout.resume();
    await failsWith(out.done, 'CONNECTION_LOST');
    await failsWith(into.done, 'CONNECTION_LOST');
    expect(await stdoutFailed).toBeInstanceOf(HearthError);
    await failsWith(session.execStream('source 1').done, 'CONNECTION_LOST');
  });

  it('says COMMAND_TIMEOUT when no byte moves for idleTimeoutMs', async () => {
    const { device, session } = await sessionOn(handlers(newSide()));
    const { stdout, done } = session.execStream('stall', { idleTimeoutMs: 300 });
    stdout.resume();
    const started = Date.now();
    await failsWith(done, 'COMMAND_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect.poll(() => device.closedChannels).toBe(1);
  });

  it('does not time out while only the reader here is slow', async () => {
    const side = newSide();
    const { session } = await sessionOn(handlers(side));
    const total = 8 * MiB;
    const { stdout, done } = session.execStream(`source ${total}`, { idleTimeoutMs: 150 });
    await sleep(500);
    expect(await hashOf(stdout)).toBe(expectedHash(total));
    expect((await done).code).toBe(0);
  });

  it('keeps only the first 64 KiB of stderr, and reports the exit status or signal', async () => {
    const { session } = await sessionOn(handlers(newSide()));
    const noisy = session.execStream('noisy');
    noisy.stdout.resume();
    const result = await noisy.done;
    expect(result.code).toBe(3);
    expect(result.stderr.length).toBe(MAX_STREAM_STDERR_BYTES);
    const killed = session.execStream('killed');
    killed.stdout.resume();
    expect(await killed.done).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('fails at once on a closed session or an aborted signal', async () => {
    const { session } = await sessionOn(handlers(newSide()));
    const controller = new AbortController();
    controller.abort();
    await failsWith(
      session.execStream('source 1', { signal: controller.signal }).done,
      'CANCELLED',
    );
    session.close();
    await failsWith(session.execStream('source 1').done, 'CANCELLED');
  });
});
