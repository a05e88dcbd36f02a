import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asHearth, parseStat, statScript } from './hearth-trees';

describe("looking at hearth's trees", () => {
  // The real stat of this machine, links not followed, on a scratch tree.
  it('tells folders, files (empty ones too), links, FIFOs and missing paths apart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-trees-'));
    try {
      const paths = ['d', 'f', 'empty', 'link', 'fifo', 'missing'].map((n) => join(dir, n));
      const [d, f, empty, link, fifo] = paths as [string, string, string, string, string];
      mkdirSync(d, { mode: 0o750 });
      writeFileSync(f, 'x');
      writeFileSync(empty, '');
      symlinkSync('/etc', link);
      spawnSync('mkfifo', [fifo]);
      const out = spawnSync('sh', ['-c', statScript(paths)], { encoding: 'utf8' }).stdout;
      const states = parseStat(out, paths);
      expect(paths.map((p) => states.get(p)?.kind)).toEqual([
        'directory',
        'file',
        'file',
        'link',
        'other',
        'absent',
      ]);
      expect(states.get(d)?.mode).toBe('750');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores lines about paths it did not ask for', () => {
    const states = parseStat('/etc/shadow|regular file|root|640\n', ['/home/hearth']);
    expect(states.get('/home/hearth')?.kind).toBe('absent');
    expect(states.has('/etc/shadow')).toBe(false);
  });

  it('runs file work as the hearth account, quoted as one sh word', () => {
    expect(asHearth("mkdir -m 0700 -- '/home/hearth/.ssh'")).toBe(
      `runuser -u hearth -- sh -c 'mkdir -m 0700 -- '\\''/home/hearth/.ssh'\\'''`,
    );
  });
});
