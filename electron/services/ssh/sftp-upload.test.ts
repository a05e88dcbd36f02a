import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { useFakeDevices } from './ssh-test-kit';

const { deviceWith, signIn } = useFakeDevices();

const image = randomBytes(600 * 1024 + 123);
const dir = mkdtempSync(join(tmpdir(), 'hearth-upload-'));
const local = join(dir, 'image');
writeFileSync(local, image);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REMOTE = '/var/lib/hearth/apps/notes/images/.partial';

describe('uploading an image over SFTP', () => {
  it('sends the whole file with its mode and reports progress up to its size', async () => {
    const device = await deviceWith();
    const session = await signIn(device);
    const progress: number[] = [];
    const result = await session.uploadFile(REMOTE, local, {
      mode: 0o600,
      onProgress: (sent, total) => {
        expect(total).toBe(image.length);
        progress.push(sent);
      },
    });
    expect(result).toEqual({ resumedFrom: 0, size: image.length });
    expect(device.files.get(REMOTE)?.data.equals(image)).toBe(true);
    expect(device.files.get(REMOTE)?.mode).toBe(0o600);
    expect(progress.at(-1)).toBe(image.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('after a cut mid-upload, the retry sends only what is missing and the result is whole', async () => {
    let cut = false;
    const device = await deviceWith({
      onSftpWrite: (_path, size, self) => {
        if (!cut && size >= 256 * 1024) {
          cut = true;
          self.dropConnections();
        }
      },
    });
    const first = await signIn(device);
    const error = await first.uploadFile(REMOTE, local, { mode: 0o600 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe('CONNECTION_LOST');
    const part = device.files.get(REMOTE)?.data.length ?? 0;
    expect(part).toBeGreaterThan(0);
    expect(part).toBeLessThan(image.length);

    const second = await signIn(device);
    const result = await second.uploadFile(REMOTE, local, { mode: 0o600 });
    expect(result.resumedFrom).toBe(part);
    expect(device.files.get(REMOTE)?.data.equals(image)).toBe(true);
  });

  it('starts again when the device holds more than the file (it cannot be a prefix)', async () => {
    const device = await deviceWith();
    device.files.set(REMOTE, { data: Buffer.alloc(image.length + 10, 1), mode: 0o600 });
    const session = await signIn(device);
    expect((await session.uploadFile(REMOTE, local, { mode: 0o600 })).resumedFrom).toBe(0);
    expect(device.files.get(REMOTE)?.data.equals(image)).toBe(true);
  });

  it('stops at once when cancelled, keeping what was sent for the retry', async () => {
    const controller = new AbortController();
    const device = await deviceWith({
      onSftpWrite: (_path, size) => {
        if (size >= 128 * 1024) controller.abort();
      },
    });
    const session = await signIn(device);
    const error = await session
      .uploadFile(REMOTE, local, { mode: 0o600, signal: controller.signal })
      .catch((e: unknown) => e);
    expect((error as HearthError).code).toBe('CANCELLED');
    const part = device.files.get(REMOTE)?.data.length ?? 0;
    expect(part).toBeLessThan(image.length);
    expect(image.subarray(0, part).equals(device.files.get(REMOTE)!.data)).toBe(true);
  });

  it('says plainly when the file on this computer cannot be read', async () => {
    const session = await signIn(await deviceWith());
    const error = await session
      .uploadFile(REMOTE, join(dir, 'gone'), { mode: 0o600 })
      .catch((e: unknown) => e);
    expect((error as HearthError).message).toMatch(/could not read .* on this computer/);
  });

  it('a link that goes silent mid-upload fails within the idle timeout', async () => {
    const device = await deviceWith({
      onSftpWrite: (_path, size, self) => {
        // The device stops answering without closing: freeze every socket.
        if (size >= 64 * 1024) self.freeze();
      },
    });
    const session = await signIn(device);
    const error = await session
      .uploadFile(REMOTE, local, { mode: 0o600, idleTimeoutMs: 300 })
      .catch((e: unknown) => e);
    expect((error as HearthError).code).toBe('CONNECTION_LOST');
  });
});
