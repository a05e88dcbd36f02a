// The release pipeline read as GitHub would run it: for every OS job of the matrix, the
// commands it runs in order, with the matrix values put in. Proves each one builds that OS's
// installers (as electron-builder.yml names them) with the pinned restic, runs the Electron
// launch spec on what it built, and publishes the update feed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { resticAssets } from './fetch-restic';

const root = join(import.meta.dirname, '..');
const workflow = parse(readFileSync(join(root, '.github/workflows/release.yml'), 'utf8')) as {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
};
const builder = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<
  string,
  unknown
>;

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
}
interface Job {
  needs?: string | string[];
  if?: string;
  'runs-on'?: string;
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps: Step[];
}

const installers = workflow.jobs.installers!;
const matrix = installers.strategy!.matrix.include;

/** A step's command with `${{ matrix.x }}` filled in for one OS job. */
function commandsOf(entry: Record<string, string>): { run: string; if?: string }[] {
  return installers.steps
    .filter((s) => s.run !== undefined)
    .map((s) => ({
      run: s.run!.replace(/\$\{\{\s*matrix\.(\w+)\s*\}\}/g, (_, key: string) => {
        const value = entry[key];
        if (value === undefined) throw new Error(`matrix.${key} is not set for ${entry.name}`);
        return value;
      }),
      ...(s.if ? { if: s.if } : {}),
    }));
}

const indexOf = (runs: { run: string }[], pattern: RegExp) =>
  runs.findIndex((r) => pattern.test(r.run));

const targets = (key: string) => (builder[key] as { target: string[] }).target;
/** What each OS must ship (issue 15) and the file each installer target is. */
const required = {
  linux: {
    flag: '--linux',
    targets: ['AppImage', 'deb'],
    files: ['*.AppImage', '*.deb'],
    // electron-builder appends the AppImage's blockmap to the AppImage itself.
    feed: ['latest*.yml'],
    made: ['Hearth-0.3.0.AppImage', 'hearth_0.3.0_amd64.deb', 'latest-linux.yml'],
  },
  darwin: {
    flag: '--mac',
    targets: ['dmg', 'zip'],
    files: ['*.dmg', '*.zip'],
    feed: ['latest*.yml', '*.zip.blockmap', '*.dmg.blockmap'],
    made: ['Hearth-0.3.0.dmg', 'Hearth-0.3.0-mac.zip', 'Hearth-0.3.0-mac.zip.blockmap'].concat(
      'Hearth-0.3.0.dmg.blockmap',
      'latest-mac.yml',
    ),
  },
  win32: {
    flag: '--win',
    targets: ['nsis'],
    files: ['*.exe'],
    feed: ['latest*.yml', '*.exe.blockmap'],
    made: ['Hearth-Setup-0.3.0.exe', 'Hearth-Setup-0.3.0.exe.blockmap', 'latest.yml'],
  },
} as const;

/** Runs a step's script with bash in `dir`, as the runner would. */
function bash(script: string, dir: string) {
  return spawnSync('bash', ['-e', '-c', script], { cwd: dir, encoding: 'utf8' });
}
const builderKey = { linux: 'linux', darwin: 'mac', win32: 'win' } as const;

describe('the release workflow', () => {
  it('runs on a version tag, and by hand', () => {
    expect(workflow.on).toMatchObject({ push: { tags: ['v*'] } });
    expect(workflow.on).toHaveProperty('workflow_dispatch');
  });

  it('has a job for Linux, macOS and Windows', () => {
    expect(new Set(matrix.map((m) => m.platform))).toEqual(new Set(['linux', 'darwin', 'win32']));
  });

  describe.each(matrix.map((m) => [m.name!, m] as const))('%s', (_name, entry) => {
    const platform = entry.platform as keyof typeof required;
    const runs = commandsOf(entry);

    it('installs, runs the unit tests, then builds its installers with the pinned restic', () => {
      const install = indexOf(runs, /^npm ci\b/);
      // Every test on Linux; elsewhere those of the code that runs on the laptop (the device
      // scripts need Debian's tools), and that selection must name folders that exist.
      const unit = indexOf(
        runs,
        platform === 'linux' ? /^npm run test:unit$/ : /^npm run test:unit:laptop$/,
      );
      const bundle = indexOf(runs, /^npm run build$/);
      const dist = indexOf(runs, /^npm run dist -- /);
      expect(install).toBeGreaterThanOrEqual(0);
      expect(unit).toBeGreaterThan(install);
      expect(bundle).toBeGreaterThan(unit);
      expect(dist).toBeGreaterThan(bundle);
      const distRun = runs[dist]!.run;
      expect(distRun).toContain(required[platform].flag);
      expect(distRun).toContain('--publish never');
      // The installers electron-builder makes for this OS are the ones the issue names.
      expect(targets(builderKey[platform])).toEqual(
        expect.arrayContaining([...required[platform].targets]),
      );
      // restic for every architecture built, fetched (and checked) before the build.
      const archs = entry.archs!.split(' ');
      for (const arch of archs) {
        expect(distRun).toContain(`--${arch}`);
        expect(resticAssets).toHaveProperty(`${platform}-${arch}`);
      }
      const fetch = indexOf(runs, /scripts\/fetch-restic\.ts --platform (\S+) --arch/);
      expect(fetch).toBeGreaterThan(install);
      expect(fetch).toBeLessThan(dist);
      expect(runs[fetch]!.run).toContain(`--platform ${platform}`);
      expect(runs[fetch]!.run).toContain(`for arch in ${archs.join(' ')}`);
    });

    it('runs the Electron launch spec on what it built', () => {
      const launch = indexOf(runs, /playwright test .*e2e\/electron-app\//);
      expect(launch).toBeGreaterThan(indexOf(runs, /^npm run dist -- /));
      // Linux runners have no display.
      if (platform === 'linux') expect(runs[launch]!.run).toMatch(/^xvfb-run /);
    });

    it('publishes the update feed (latest*.yml and blockmaps) with its installers', () => {
      const publish = runs[indexOf(runs, /^gh release upload /)]!;
      const { files, feed } = required[platform];
      for (const file of [...files, ...feed])
        expect(publish.run).toContain(`out/installers/${file}`);
      expect(publish.if).toBe("startsWith(github.ref, 'refs/tags/v')");
    });

    it('fails before publishing when an installer or feed file was not made', () => {
      const check = indexOf(runs, /made no \$pattern/);
      expect(check).toBeGreaterThan(indexOf(runs, /^npm run dist -- /));
      expect(check).toBeLessThan(indexOf(runs, /^gh release upload /));
      const dir = mkdtempSync(join(tmpdir(), 'hearth-dist-'));
      try {
        mkdirSync(join(dir, 'out', 'installers'), { recursive: true });
        const made = required[platform].made;
        for (const file of made) writeFileSync(join(dir, 'out', 'installers', file), '');
        expect(bash(runs[check]!.run, dir).status).toBe(0);
        // Each one missing in turn is named.
        for (const file of made) {
          rmSync(join(dir, 'out', 'installers', file));
          const result = bash(runs[check]!.run, dir);
          expect(result.status, file).toBe(1);
          expect(result.stdout).toMatch(/::error::npm run dist made no out\/installers\/\S+, so/);
          writeFileSync(join(dir, 'out', 'installers', file), '');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('gives the update feed the tag’s message as release notes, without its signature', () => {
    const runs = commandsOf(matrix[0]!);
    const notes = indexOf(runs, /release-notes\.md/);
    expect(notes).toBeLessThan(indexOf(runs, /^npm run dist -- /));
    expect(runs[notes]!.if).toBe("startsWith(github.ref, 'refs/tags/v')");
    // electron-builder reads release-notes.md from its build resources into latest*.yml.
    const resources = (builder.directories as { buildResources: string }).buildResources;
    expect(runs[notes]!.run).toContain(`> ${resources}/release-notes.md`);

    // The step itself, in a shallow clone of a repository with a signed tag v0.3.0.
    const dir = mkdtempSync(join(tmpdir(), 'hearth-notes-'));
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=A', '-c', 'user.email=a@hearth.test', ...args], {
        cwd,
        encoding: 'utf8',
        input: '',
      }).trim();
    try {
      const origin = join(dir, 'origin');
      mkdirSync(origin);
      git(origin, 'init', '-q');
      git(origin, 'commit', '-q', '--allow-empty', '-m', 'Hearth 0.3.0');
      const tag = execFileSync('git', ['mktag'], {
        cwd: origin,
        encoding: 'utf8',
        input: [
          `object ${git(origin, 'rev-parse', 'HEAD')}`,
          'type commit',
          'tag v0.3.0',
          'tagger A <a@hearth.test> 1764000000 +0000',
          '',
          'Backups to a second device.',
          '',
          'And a calmer tray.',
          '-----BEGIN PGP SIGNATURE-----',
          '',
          'iQIzBAABCAAdFiEE',
          '-----END PGP SIGNATURE-----',
          '',
        ].join('\n'),
      }).trim();
      git(origin, 'update-ref', 'refs/tags/v0.3.0', tag);
      git(dir, 'clone', '-q', '--depth', '1', '--no-tags', `file://${origin}`, 'checkout');
      const checkout = join(dir, 'checkout');
      mkdirSync(join(checkout, resources));
      const result = spawnSync('bash', ['-e', '-c', runs[notes]!.run], {
        cwd: checkout,
        encoding: 'utf8',
        env: { ...process.env, GITHUB_REF_NAME: 'v0.3.0' },
      });
      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(join(checkout, resources, 'release-notes.md'), 'utf8').trim()).toBe(
        'Backups to a second device.\n\nAnd a calmer tray.',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signs the default catalog it ships with a key the shipped trusted-keys.json pins', () => {
    const sign = commandsOf(matrix[0]!).find((r) => r.run.includes('sign-catalog-cli.ts'))!;
    expect(sign.run).toContain('--out resources/catalog/default.json');
    expect(sign.run).toContain('--trusted resources/catalog/trusted-keys.json');
    expect(sign.run).toMatch(/trap 'rm -f "\$key"' EXIT/);
    expect(builder.extraResources).toContainEqual({
      from: 'resources/catalog',
      to: 'catalog',
      filter: ['default.json', 'trusted-keys.json'],
    });
  });

  it('puts the fetched restic in the app’s resources/bin', () => {
    expect(builder.extraResources).toContainEqual({
      from: 'out/tools/restic/${platform}-${arch}',
      to: 'bin',
      filter: ['restic', 'restic.exe'],
    });
  });

  it('builds after the draft release it uploads to exists (the feed: update-feed.test.ts)', () => {
    expect(installers.needs).toContain('draft');
  });

  it('checks the pinned restic sums against restic’s signed list before any installer', () => {
    const check = workflow.jobs['restic-sums']!;
    // On every run, tag or by hand; Linux has gpg.
    expect(check.if).toBe(undefined);
    expect(check['runs-on']).toMatch(/^ubuntu-/);
    const runs = check.steps.map((s) => s.run ?? '');
    expect(runs.indexOf('npx tsx scripts/verify-restic-sums.ts')).toBeGreaterThan(
      runs.findIndex((r) => /^npm ci\b/.test(r)),
    );
    // The installers wait for it, and a failed check is a failure they do not run after.
    expect(installers.needs).toContain('restic-sums');
    expect(installers.if).toContain('!failure()');
  });

  it('says which step is skipped for each missing secret', () => {
    const text = readFileSync(join(root, '.github/workflows/release.yml'), 'utf8');
    const secrets = new Set([...text.matchAll(/secrets\.(\w+)/g)].map((m) => m[1]!));
    expect(secrets.size).toBeGreaterThan(0);
    // Every secret is documented in the header and named where its absence is reported.
    const header = text.slice(0, text.indexOf('\nname:'));
    const warnings = [...text.matchAll(/::warning::Skipped:[^"]*/g)].map((m) => m[0]).join('\n');
    for (const secret of secrets) {
      expect(header).toContain(secret);
      if (!secret.endsWith('PASSWORD')) expect(warnings).toContain(secret);
    }
  });
});

describe('the laptop-side unit tests macOS and Windows run', () => {
  const scripts = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const [runner, command, ...folders] = (scripts['test:unit:laptop'] ?? '').split(' ');

  it('are vitest runs of folders that exist, the shell and the renderer among them', () => {
    expect([runner, command]).toEqual(['vitest', 'run']);
    for (const folder of folders) expect(existsSync(join(root, folder)), folder).toBe(true);
    expect(folders).toEqual(expect.arrayContaining(['electron/shell', 'renderer', 'shared']));
  });
});
