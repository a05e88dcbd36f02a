import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { MAX_APPS } from './catalog-schema';
import type { CatalogApp, CatalogIndex } from './catalog-schema';
import { parseCatalogIndex } from './read-catalog';
import { sampleApp, sampleIndex } from './test-catalog';

type Version = CatalogApp['versions'][number];

function withVersion(change: (v: Version) => void): CatalogIndex {
  const index = sampleIndex();
  change(index.apps[0]!.versions[0]!);
  return index;
}

function withApp(change: Partial<CatalogApp>): CatalogIndex {
  return sampleIndex({ apps: [sampleApp(change)] });
}

function refusedBecause(index: unknown): string {
  try {
    parseCatalogIndex(index);
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return (error as HearthError).message;
  }
  throw new Error('expected the index to be refused');
}

describe('catalog index schema', () => {
  it('accepts a full, valid entry', () => {
    const index = withVersion((v) => {
      v.artifacts['qemu-aarch64'] = {
        url: 'https://apps.example.com/counter-arm.elf',
        size: 2048,
        sha256: 'c'.repeat(64),
        initrd: { url: 'https://apps.example.com/rootfs.cpio', size: 10, sha256: 'd'.repeat(64) },
      };
      v.artifacts['hvt-x86_64'] = {
        url: 'https://x.example/c.hvt',
        size: 5,
        sha256: 'e'.repeat(64),
      };
      v.resources.ports = [
        { name: 'web', guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp', path: '/' },
        { name: 'dns', guest: 53, host: 5353, protocol: 'udp' },
      ];
      v.resources.health = { kind: 'http', port: 80, path: '/health?x=1' };
      v.resources.bootArgs = '--ipv4=10.0.0.2/24 --verbose';
    });
    index.apps[0]!.icon = '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>';
    index.apps[0]!.description = 'First line.\nSecond line.';
    expect(parseCatalogIndex(index)).toEqual(index);
  });

  it('refuses hostile or odd text shown to the owner', () => {
    for (const name of [
      'Count\u202eer', // right-to-left override
      'Count\u200ber', // zero-width space
      'Count\ner',
      'Count\u0007er',
      ' Counter',
      '   ',
      'C'.repeat(41),
    ])
      expect(refusedBecause(withApp({ name })), JSON.stringify(name)).toMatch(/apps\.0\.name/);
    expect(refusedBecause(withApp({ description: 'tab\there' }))).toMatch(/description/);
    expect(refusedBecause(withApp({ icon: '<script>alert(1)</script>' }))).toMatch(/SVG/);
    expect(refusedBecause(withApp({ icon: `<svg>${' '.repeat(70_000)}</svg>` }))).toMatch(/icon/);
  });

  it('takes plain release notes per version, bounded, and refuses hostile text in them', () => {
    const ok = withVersion((v) => (v.releaseNotes = 'Faster start.\nFixes the boot counter.'));
    expect(parseCatalogIndex(ok).apps[0]!.versions[0]!.releaseNotes).toBe(
      'Faster start.\nFixes the boot counter.',
    );
    for (const notes of ['x'.repeat(4001), 'tab\there', 'Fixes \u202eeverything', '', ' padded'])
      expect(
        refusedBecause(withVersion((v) => (v.releaseNotes = notes))),
        JSON.stringify(notes.slice(0, 20)),
      ).toMatch(/versions\.0\.releaseNotes/);
  });

  it('refuses ids that could become paths or unit names', () => {
    for (const id of ['Counter', '../etc', 'a b', '1counter', '', 'a'.repeat(33), 'counter@2'])
      expect(refusedBecause(withApp({ id })), id).toMatch(/apps\.0\.id/);
  });

  it('refuses too many apps, duplicate apps and duplicate versions', () => {
    const many = Array.from({ length: MAX_APPS + 1 }, (_, i) => sampleApp({ id: `app-${i}` }));
    expect(refusedBecause(sampleIndex({ apps: many }))).toMatch(/apps/);
    expect(refusedBecause(sampleIndex({ apps: [sampleApp(), sampleApp()] }))).toMatch(/unique/);
    const twice = sampleApp();
    twice.versions.push(structuredClone(twice.versions[0]!));
    expect(refusedBecause(sampleIndex({ apps: [twice] }))).toMatch(/versions must be unique/);
    expect(refusedBecause(withApp({ versions: [] }))).toMatch(/versions/);
  });

  it('refuses anything but 64 lowercase hex digits as a sha256', () => {
    for (const sha256 of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), ''])
      expect(
        refusedBecause(withVersion((v) => (v.artifacts['qemu-x86_64']!.sha256 = sha256))),
      ).toMatch(/sha256/);
  });

  it('refuses plain http to a public host, and odd schemes', () => {
    for (const url of [
      'http://downloads.example.com/counter.elf',
      'ftp://example.com/counter.elf',
      'file:///etc/shadow',
      'https://user:pw@example.com/c.elf',
    ])
      expect(
        refusedBecause(withVersion((v) => (v.artifacts['qemu-x86_64']!.url = url))),
        url,
      ).toMatch(/url/);
    const lan = withVersion((v) => (v.artifacts['qemu-x86_64']!.url = 'http://192.168.1.9/c.elf'));
    expect(parseCatalogIndex(lan)).toEqual(lan);
  });

  it('bounds sizes, memory and ports, and keeps names unique', () => {
    const cases: [string, (v: Version) => void, RegExp][] = [
      ['zero size', (v) => (v.artifacts['qemu-x86_64']!.size = 0), /size/],
      ['fractional size', (v) => (v.artifacts['qemu-x86_64']!.size = 1.5), /size/],
      ['huge size', (v) => (v.artifacts['qemu-x86_64']!.size = 2 ** 40), /size/],
      ['memory', (v) => (v.resources.memoryMiB = 1_000_000), /memoryMiB/],
      [
        'duplicate volume',
        (v) => v.resources.volumes.push({ name: 'data', sizeMiB: 1 }),
        /volume names/,
      ],
      [
        'port 0',
        (v) => v.resources.ports.push({ name: 'web', guest: 0, host: 80, protocol: 'tcp' }),
        /guest/,
      ],
      [
        'port 65536',
        (v) => v.resources.ports.push({ name: 'web', guest: 80, host: 65536, protocol: 'tcp' }),
        /host/,
      ],
      [
        'same host port',
        (v) =>
          v.resources.ports.push(
            { name: 'a', guest: 80, host: 8080, protocol: 'tcp' },
            { name: 'b', guest: 81, host: 8080, protocol: 'tcp' },
          ),
        /share a host port/,
      ],
      [
        'health on an undeclared port',
        (v) => (v.resources.health = { kind: 'tcp', port: 80 }),
        /health/,
      ],
      ['boot args with a newline', (v) => (v.resources.bootArgs = 'a\nrm -rf /'), /boot/],
      ['no builds', (v) => (v.artifacts = {}), /at least one build/],
      [
        'Solo5 with an initrd',
        (v) =>
          (v.artifacts['hvt-x86_64'] = {
            url: 'https://x.example/a',
            size: 1,
            sha256: 'a'.repeat(64),
            initrd: { url: 'https://x.example/b', size: 1, sha256: 'b'.repeat(64) },
          }),
        /initrd/,
      ],
      ['bad version', (v) => (v.version = 'v1'), /version/],
    ];
    for (const [what, change, message] of cases)
      expect(refusedBecause(withVersion(change)), what).toMatch(message);
  });

  it('refuses unknown fields and targets (strict objects)', () => {
    const extra = withVersion((v) => {
      (v.artifacts as Record<string, unknown>)['riscv-64'] = v.artifacts['qemu-x86_64'];
    });
    expect(refusedBecause(extra)).toMatch(/artifacts/);
    expect(refusedBecause({ ...sampleIndex(), surprise: 1 })).toMatch(/catalog|surprise/);
  });

  it('asks for a newer Hearth for a later catalog format', () => {
    expect(refusedBecause({ ...sampleIndex(), format: 'hearth-catalog/2' })).toMatch(
      /newer version of Hearth/,
    );
    expect(refusedBecause({ ...sampleIndex(), format: 'other' })).toMatch(/breaks Hearth's rules/);
  });
});

describe('builds-service jobs in an index', () => {
  const job = (builds: Record<string, unknown>, id = 'dnsvizor') => ({
    id,
    name: 'DNSvizor',
    summary: 'A resolver.',
    description: 'Resolves names at home.',
    builds: { service: 'https://builds.robur.coop', job: 'dnsvizor', ...builds },
    resources: sampleApp().versions[0]!.resources,
  });

  it('reads a job, pinned or not', () => {
    const index = { ...sampleIndex(), jobs: [job({}), job({ sha256: 'b'.repeat(64) }, 'pinned')] };
    expect(parseCatalogIndex(index).jobs).toHaveLength(2);
  });

  it('refuses a service address with a path, a job name that is a path, or an id an app has', () => {
    expect(
      refusedBecause({ ...sampleIndex(), jobs: [job({ service: 'https://x.example/a' })] }),
    ).toMatch(/must have no path/);
    expect(refusedBecause({ ...sampleIndex(), jobs: [job({ job: '../admin' })] })).toMatch(
      /not a job name/,
    );
    expect(refusedBecause({ ...sampleIndex(), jobs: [job({}, 'counter')] })).toMatch(
      /app ids must be unique/,
    );
    expect(
      refusedBecause({ ...sampleIndex(), jobs: [job({ service: 'http://builds.robur.coop' })] }),
    ).toMatch(/only allowed on your home network/);
  });
});
