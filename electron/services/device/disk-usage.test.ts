import { describe, expect, it } from 'vitest';
import { parseDiskUsage, readDiskUsage } from './disk-usage';

const dfLine = (used: number, available: number) =>
  'Filesystem     1024-blocks    Used Available Capacity Mounted on\n' +
  `/dev/mmcblk0p2    ${used + available + 500}  ${used}  ${available}      93% /\n`;

describe('disk usage', () => {
  it("reads df's used and available space for /var/lib/hearth", async () => {
    const commands: string[] = [];
    const usage = await readDiskUsage({
      exec: (command) => {
        commands.push(command);
        return Promise.resolve({ code: 0, signal: null, stdout: dfLine(930, 70), stderr: '' });
      },
    });
    expect(usage).toEqual({ usedBytes: 930 * 1024, totalBytes: 1000 * 1024 });
    expect(commands[0]).toContain('# hearth:disk-usage');
    expect(commands[0]).toContain('df -Pk /var/lib/hearth');
  });

  it('says nothing rather than guess when df fails or prints something else', async () => {
    const failing = await readDiskUsage({
      exec: () => Promise.resolve({ code: 1, signal: null, stdout: '', stderr: 'df: nope' }),
    });
    expect(failing).toBeNull();
    expect(parseDiskUsage('hello')).toBeNull();
    expect(parseDiskUsage(dfLine(0, 0))).toBeNull();
  });
});
