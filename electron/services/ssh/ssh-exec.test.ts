import { describe, expect, it } from 'vitest';
import type { CommandHandler } from './fake-ssh-device';
import { failsWith, useFakeDevices } from './ssh-test-kit';

const { sessionOn } = useFakeDevices();

const neverEnds: CommandHandler = (_command, channel) => {
  channel.write('started\n');
};

/** Streams `total` bytes as fast as the client takes them; counts what was sent. */
function flood(total: number, sent: { bytes: number; stopped: boolean }): CommandHandler {
  return (command, channel) => {
    if (command !== 'yes') {
      channel.exit(0);
      channel.end();
      return;
    }
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    channel.on('close', () => (sent.stopped = true));
    const pump = (): void => {
      while (!sent.stopped && sent.bytes < total) {
        sent.bytes += chunk.length;
        if (!channel.write(chunk)) return void channel.once('drain', pump);
      }
      if (!sent.stopped) {
        channel.exit(0);
        channel.end();
      }
    };
    pump();
  };
}

describe('SshSession.exec bounds', () => {
  it('stops oversized output with DEVICE_GARBLED long before it was all sent', async () => {
    const sent = { bytes: 0, stopped: false };
    const { session } = await sessionOn(flood(50 * 1024 * 1024, sent));
    const heapBefore = process.memoryUsage().heapUsed;
    await failsWith(session.exec('yes'), 'DEVICE_GARBLED');
    // The default cap is 1 MiB; SSH flow control lets at most a window or two more through.
    expect(sent.bytes).toBeLessThan(8 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    await expect.poll(() => sent.stopped).toBe(true);
    // The session is still usable for the next step.
    expect((await session.exec('true')).code).toBe(0);
  });

  it('hands stdout over as it arrives, before the command ends, and still returns all of it', async () => {
    let finish = (): void => undefined;
    const { session } = await sessionOn((_c, channel) => {
      channel.write('early\n');
      finish = () => {
        channel.write('late\n');
        channel.exit(0);
        channel.end();
      };
    });
    const seen: string[] = [];
    const pending = session.exec('report', {
      onStdout: (chunk) => {
        seen.push(chunk.toString());
        if (seen.length === 1) finish();
      },
    });
    const result = await pending;
    expect(seen.join('')).toBe('early\nlate\n');
    expect(seen[0]).toBe('early\n');
    expect(result.stdout).toBe('early\nlate\n');
  });

  it('runs on when whoever listens to its stdout throws', async () => {
    const { session } = await sessionOn((_c, channel) => {
      channel.write('x\n');
      channel.exit(0);
      channel.end();
    });
    const result = await session.exec('report', {
      onStdout: () => {
        throw new Error('a broken listener');
      },
    });
    expect(result).toMatchObject({ code: 0, stdout: 'x\n' });
  });

  it('honours a smaller maxOutputBytes, stderr included', async () => {
    const { session } = await sessionOn((_c, channel) => {
      channel.stderr.write('x'.repeat(600));
      channel.write('y'.repeat(600));
      channel.exit(0);
      channel.end();
    });
    await failsWith(session.exec('noisy', { maxOutputBytes: 1000 }), 'DEVICE_GARBLED');
  });

  it('says COMMAND_TIMEOUT for a command that never ends, and closes its channel', async () => {
    const { device, session } = await sessionOn(neverEnds);
    const started = Date.now();
    await failsWith(session.exec('sleep infinity', { timeoutMs: 300 }), 'COMMAND_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect.poll(() => device.closedChannels).toBe(1);
  });

  it('is CANCELLED by the exec signal, closing the channel but not the session', async () => {
    const { device, session } = await sessionOn((command, channel, d) =>
      command === 'sleep' ? neverEnds(command, channel, d) : (channel.exit(0), channel.end()),
    );
    const controller = new AbortController();
    const pending = session.exec('sleep', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await failsWith(pending, 'CANCELLED');
    await expect.poll(() => device.closedChannels).toBe(1);
    expect((await session.exec('true')).code).toBe(0);
  });

  it('is CANCELLED by the connection signal, which closes the connection', async () => {
    const controller = new AbortController();
    const { session } = await sessionOn(neverEnds, controller.signal);
    const pending = session.exec('sleep');
    setTimeout(() => controller.abort(), 50);
    await failsWith(pending, 'CANCELLED');
    await session.closed;
    await failsWith(session.exec('echo late'), 'CANCELLED');
  });

  it('says CONNECTION_LOST when the device drops the link mid-command', async () => {
    const { device, session } = await sessionOn(neverEnds);
    const pending = session.exec('apt-get install qemu');
    setTimeout(() => device.dropConnections(), 50);
    await failsWith(pending, 'CONNECTION_LOST');
    await session.closed;
    await failsWith(session.exec('echo again'), 'CONNECTION_LOST');
    await failsWith(session.writeFile('/tmp/x', 'x'), 'CONNECTION_LOST');
  });

  it('fails pending commands with CANCELLED when the caller closes the session', async () => {
    const { session } = await sessionOn(neverEnds);
    const pending = session.exec('sleep');
    setTimeout(() => session.close(), 50);
    await failsWith(pending, 'CANCELLED');
    await session.closed;
  });

  it('reports a command killed by a signal', async () => {
    const { session } = await sessionOn((_c, channel) => {
      channel.exit('KILL', false, 'killed');
      channel.end();
    });
    expect(await session.exec('victim')).toMatchObject({ code: null, signal: 'SIGKILL' });
  });
});
