import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { avahiService, deviceJson, parseDeviceJson, sudoersDropIn } from './device-files';

function withFile<T>(name: string, content: string, use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-files-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, content);
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function toolExists(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

describe('files Hearth puts on a device', () => {
  it('writes the same bytes every time (so a second run changes nothing)', () => {
    expect(sudoersDropIn()).toBe(sudoersDropIn());
    const a = deviceJson({
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      name: 'Living-room Pi',
      provisionedAt: '2026-11-27T10:00:00.000Z',
      hearthVersion: '0.1.0',
    });
    expect(parseDeviceJson(a)).toEqual({
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      name: 'Living-room Pi',
      provisionedAt: '2026-11-27T10:00:00.000Z',
      hearthVersion: '0.1.0',
    });
  });

  it('does not trust a device.json it did not write', () => {
    expect(parseDeviceJson('{"id":"../../etc"}')).toBeNull();
    expect(parseDeviceJson('garbage')).toBeNull();
  });

  it('escapes TXT values in the avahi service file', () => {
    const xml = avahiService({ id: 'x', arch: 'x86_64', hv: 'qemu', v: '1<script>' });
    expect(xml).toContain('<type>_hearth._tcp</type>');
    expect(xml).not.toContain('<script>');
  });

  // visudo is what the device itself uses to judge the drop-in before it is put in place.
  it.runIf(toolExists('visudo'))('the sudoers drop-in passes visudo -c', () => {
    withFile('hearth', sudoersDropIn(), (path) => {
      expect(execFileSync('visudo', ['-cf', path]).toString()).toContain('parsed OK');
    });
  });
});
