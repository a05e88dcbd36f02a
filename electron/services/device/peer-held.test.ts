import { PassThrough, Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ExecOptions, ExecResult, ExecStream, ExecStreamOptions } from '../ssh/ssh-session';
import { heldCopyDumper, listHeldCopies, parseHeldCopies } from './peer-held';

const pi = '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4';
const piAccount = 'hb-0b6f1c2e3d4a';
const other = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const id = (c: string) => c.repeat(64);
const snap = (o: Partial<Record<string, unknown>> = {}) => ({
  time: '2026-12-01T10:00:00.5Z',
  paths: ['/counter.tar'],
  hostname: pi,
  tags: ['hearth', 'app=counter', 'version=1.0.0'],
  id: id('a'),
  ...o,
});
const line = (account: string, list: unknown[]) => `${account} ok ${JSON.stringify(list)}`;

describe('the copies a device keeps for others', () => {
  it('lists each source account’s own snapshots, newest first', () => {
    const held = parseHeldCopies(
      [
        line(piAccount, [snap(), snap({ id: id('b'), time: '2026-12-02T10:00:00Z' })]),
        'hb-111111111111 failed wrong-password',
        '',
      ].join('\n'),
    );
    expect(held.points.map((p) => [p.id, p.deviceId, p.appId, p.appVersion])).toEqual([
      [id('b'), pi, 'counter', '1.0.0'],
      [id('a'), pi, 'counter', '1.0.0'],
    ]);
    expect(held.unreadable).toEqual(['hb-111111111111']);
  });

  it('never takes a snapshot as another device’s than the account it is in', () => {
    const held = parseHeldCopies(
      line(piAccount, [
        snap({ hostname: other }),
        snap({ hostname: 'laptop' }),
        snap({ paths: ['/etc/passwd'] }),
        snap({ paths: ['/counter.tar', '/other.tar'] }),
        snap({ tags: ['app=counter'] }),
        snap({ id: 'abc' }),
        snap({ time: 'yesterday' }),
      ]),
    );
    expect(held.points).toEqual([]);
  });

  it('calls anything else the device garbling', () => {
    for (const out of ['hb-0b6f1c2e3d4a ok {"a":1}', 'hello', `${piAccount} ok [oops]`])
      expect(() => parseHeldCopies(out)).toThrow(
        expect.objectContaining({ code: 'DEVICE_GARBLED' }),
      );
  });

  it('sends the password on stdin only, and names an old agent as needing preparing', async () => {
    const seen: { command: string; options: ExecOptions }[] = [];
    let answer: Partial<ExecResult> = { stdout: line(piAccount, [snap()]) };
    const session = {
      exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
        seen.push({ command, options });
        return Promise.resolve({ code: 0, stdout: '', stderr: '', signal: null, ...answer });
      },
    };
    const held = await listHeldCopies(session, 'the password');
    expect(held.points).toHaveLength(1);
    expect(seen[0]?.command).toContain('sudo -n /usr/local/lib/hearth/agent peer-snapshots');
    expect(seen[0]?.command).not.toContain('the password');
    expect(seen[0]?.options.stdin).toBe('the password\n');
    answer = { code: 2, stderr: 'hearth agent: not a verb Hearth knows' };
    await expect(listHeldCopies(session, 'the password')).rejects.toMatchObject({
      code: 'DEVICE_NEEDS_PREPARING',
    });
    answer = { code: 1, stderr: 'Fatal: wrong password or no key found' };
    await expect(listHeldCopies(session, 'the password')).rejects.toMatchObject({
      code: 'BACKUP_WRONG_PASSWORD',
    });
  });
});

/** A session whose one streamed command writes `out` and exits with `code`. */
function streaming(out: string[], code: number, stderr = '') {
  const seen: { command: string; stdin: string }[] = [];
  return {
    seen,
    execStream(command: string, options: ExecStreamOptions = {}): ExecStream {
      const stdout = new PassThrough();
      const done = (async () => {
        let stdin = '';
        for await (const chunk of options.stdin as Readable) stdin += String(chunk);
        seen.push({ command, stdin });
        for (const part of out) stdout.write(part);
        stdout.end();
        return { code, signal: null, stderr };
      })();
      return { stdout, done };
    },
  };
}

function collector() {
  let text = '';
  let error: Error | null = null;
  let ended = false;
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  w.on('error', (e) => (error = e));
  return { w, text: () => text, error: () => error, ended: () => ended };
}

describe('a copy read through the device that keeps it', () => {
  it('streams the tar of that source’s app and snapshot, the password on stdin', async () => {
    const session = streaming(['part one, ', 'part two'], 0);
    const out = collector();
    await heldCopyDumper(session, pi, 'the password').dump(id('c'), '/counter.tar', out.w);
    expect(out.text()).toBe('part one, part two');
    expect(out.ended()).toBe(true);
    expect(session.seen[0]?.command).toContain(
      `sudo -n /usr/local/lib/hearth/agent peer-dump ${pi} counter ${id('c')}`,
    );
    expect(session.seen[0]?.command).not.toContain('the password');
    expect(session.seen[0]?.stdin).toBe('the password\n');
  });

  it('never lets a cut stream pass for a whole one', async () => {
    const session = streaming(['half a tar'], 1, 'Fatal: unable to load snapshot');
    const out = collector();
    await expect(
      heldCopyDumper(session, pi, 'the password').dump(id('c'), '/counter.tar', out.w),
    ).rejects.toMatchObject({ code: 'DEVICE_STEP_FAILED' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.ended()).toBe(false);
    expect(out.error()).not.toBeNull();
  });

  it('refuses what is not a snapshot of an app before asking the device', async () => {
    const session = streaming([], 0);
    const dumper = heldCopyDumper(session, pi, 'the password');
    await expect(dumper.dump('latest', '/counter.tar', collector().w)).rejects.toThrow();
    await expect(dumper.dump(id('c'), '/etc/passwd', collector().w)).rejects.toThrow();
    expect(session.seen).toEqual([]);
  });
});
