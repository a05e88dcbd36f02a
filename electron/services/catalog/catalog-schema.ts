// The shape of a catalog index (hearth-catalog/1) and of the signed file around it
// (hearth-catalog-signed/1). Strict objects and bounds everywhere: a catalog comes from
// the network, its text is shown to the owner and its numbers reach device launchers,
// so anything unexpected is refused rather than cleaned up.
import { z } from 'zod';
import { urlProblem } from './catalog-url';
import { linkPathPattern, serviceTypePattern, shortNamePattern } from '../../../shared/ids';
import type { Target as SharedTarget } from '../../../shared/runtimes';

export const INDEX_FORMAT = 'hearth-catalog/1';
export const SIGNED_FORMAT = 'hearth-catalog-signed/1';

export const MAX_APPS = 200;
export const MAX_VERSIONS = 20;
export const MAX_ARTIFACT_BYTES = 4 * 1024 ** 3;
export const MAX_ICON_CHARS = 64 * 1024;
export const MAX_RELEASE_NOTES_CHARS = 4000;

/** Every kind of device Hearth can run an app on: runtime, then CPU architecture. */
export const targets = [
  'qemu-x86_64',
  'qemu-aarch64',
  'xen-x86_64',
  'hvt-x86_64',
  'hvt-aarch64',
  'spt-x86_64',
  'spt-aarch64',
] as const satisfies readonly SharedTarget[];
export const targetSchema = z.enum(targets);
export type Target = z.infer<typeof targetSchema>;

// Control characters, zero-width and bidirectional overrides, BOM: they can make text
// shown to the owner say something other than what it seems to.
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
const UNSAFE_PARAGRAPH =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

function text(max: number, unsafe = UNSAFE_TEXT) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !unsafe.test(s), 'contains control or direction-changing characters')
    .refine((s) => s.trim() === s && s.trim().length > 0, 'blank or padded with spaces');
}

export const idSchema = z.string().regex(shortNamePattern, 'not an id');
export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'not a lowercase sha256');
// Semantic versions without build metadata: x.y.z or x.y.z-pre.release.
export const versionSchema = z
  .string()
  .regex(
    /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})(-[0-9A-Za-z.-]{1,32})?$/,
    'not a version',
  );
export const portSchema = z.number().int().min(1).max(65535);

export const artifactUrlSchema = z.string().superRefine((value, ctx) => {
  const problem = urlProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const fileRefSchema = z.strictObject({
  url: artifactUrlSchema,
  size: z.number().int().min(1).max(MAX_ARTIFACT_BYTES),
  sha256: sha256Schema,
});
export type FileRef = z.infer<typeof fileRefSchema>;

export const artifactSchema = z.strictObject({
  ...fileRefSchema.shape,
  /** How QEMU attaches data volumes; absent means virtio. Ignored by Xen and Solo5. */
  disk: z.enum(['ide', 'virtio']).optional(),
  /** A Unikraft-style initial ramdisk (rootfs); QEMU and Xen only. */
  initrd: fileRefSchema.optional(),
});
export type Artifact = z.infer<typeof artifactSchema>;

export const healthSchema = z.discriminatedUnion('kind', [
  // A literal substring of a console line, not a regular expression: no ReDoS from a
  // catalog, and no escaping puzzles for the publisher.
  z.strictObject({ kind: z.literal('console'), pattern: text(200) }),
  z.strictObject({ kind: z.literal('tcp'), port: portSchema }),
  z.strictObject({
    kind: z.literal('http'),
    port: portSchema,
    path: z.string().regex(linkPathPattern, 'not a URL path'),
  }),
]);
export type HealthProbe = z.infer<typeof healthSchema>;

export const volumeSchema = z.strictObject({
  name: idSchema,
  sizeMiB: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024),
});

export const publishedPortSchema = z.strictObject({
  name: idSchema,
  guest: portSchema,
  host: portSchema,
  protocol: z.enum(['tcp', 'udp']),
  /** A DNS-SD service type to advertise over the device's avahi, e.g. _http._tcp. */
  service: z.string().regex(serviceTypePattern, 'not a DNS-SD service type').optional(),
  /** Where the owner's "Open" link goes on an HTTP port. */
  path: z.string().regex(linkPathPattern, 'not a URL path').optional(),
});

function unique<T>(items: T[], key: (item: T) => string): boolean {
  return new Set(items.map(key)).size === items.length;
}

export const resourcesSchema = z
  .strictObject({
    memoryMiB: z
      .number()
      .int()
      .min(2)
      .max(64 * 1024),
    volumes: z
      .array(volumeSchema)
      .max(8)
      .refine((v) => unique(v, (x) => x.name), 'volume names must be unique'),
    ports: z
      .array(publishedPortSchema)
      .max(16)
      .refine((p) => unique(p, (x) => x.name), 'port names must be unique')
      .refine((p) => unique(p, (x) => `${x.protocol}/${x.host}`), 'two ports share a host port'),
    // Printable ASCII only: it ends up on a launcher's command line (quoted by the
    // runtime, but there is no reason to let anything stranger through).
    bootArgs: z
      .string()
      .max(1024)
      .regex(/^[\x20-\x7e]*$/, 'boot arguments must be plain text'),
    health: healthSchema,
    /**
     * The app may sleep when idle (stopped after a while without a visit, woken by the next):
     * installed that way, the owner can turn it off. Absent for apps that must always run.
     */
    sleepWhenIdle: z.boolean().optional(),
  })
  .refine(
    ({ health, ports }) =>
      health.kind === 'console' ||
      ports.some((p) => p.guest === health.port && p.protocol === 'tcp'),
    'the health probe must use one of the app’s TCP ports',
  );
export type Resources = z.infer<typeof resourcesSchema>;

export const artifactsSchema = z
  .strictObject({
    'qemu-x86_64': artifactSchema.optional(),
    'qemu-aarch64': artifactSchema.optional(),
    'xen-x86_64': artifactSchema.optional(),
    'hvt-x86_64': artifactSchema.optional(),
    'hvt-aarch64': artifactSchema.optional(),
    'spt-x86_64': artifactSchema.optional(),
    'spt-aarch64': artifactSchema.optional(),
  })
  .refine((a) => Object.values(a).some(Boolean), 'a version needs at least one build')
  .refine(
    (a) =>
      !a['hvt-x86_64']?.initrd &&
      !a['hvt-aarch64']?.initrd &&
      !a['spt-x86_64']?.initrd &&
      !a['spt-aarch64']?.initrd,
    'Solo5 builds cannot have an initrd',
  );

export const appVersionSchema = z.strictObject({
  version: versionSchema,
  artifacts: artifactsSchema,
  resources: resourcesSchema,
  /** What changed in this version, as plain text in paragraphs (shown as text, never as HTML). */
  releaseNotes: text(MAX_RELEASE_NOTES_CHARS, UNSAFE_PARAGRAPH).optional(),
});
export type AppVersion = z.infer<typeof appVersionSchema>;

export const catalogAppSchema = z.strictObject({
  id: idSchema,
  name: text(40),
  summary: text(140),
  description: text(2000, UNSAFE_PARAGRAPH),
  // SVG text. It can carry scripts, so the renderer must only ever show it as an image
  // (<img src="data:image/svg+xml,…">), never inline it into the page.
  icon: z
    .string()
    .max(MAX_ICON_CHARS)
    .regex(/^\s*(<\?xml[^>]*\?>\s*)?<svg[\s>]/, 'the icon must be SVG text')
    .optional(),
  versions: z
    .array(appVersionSchema)
    .min(1)
    .max(MAX_VERSIONS)
    .refine((v) => unique(v, (x) => x.version), 'versions must be unique'),
});
export type CatalogApp = z.infer<typeof catalogAppSchema>;

// A job name on a builder-web service: it becomes a path segment of the service's URLs.
export const jobNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'not a job name');

/**
 * An app Hearth vouches for by the reproducible-build job that makes it (builder-web, such as
 * builds.robur.coop), not by one fixed image: the job's builds are looked up when the catalog
 * is read, and each download is checked against the sha256 the service gives for its build.
 * `sha256` pins one build; without it the newest successful build is offered.
 */
export const buildsJobSchema = z.strictObject({
  id: idSchema,
  name: text(40),
  summary: text(140),
  description: text(2000, UNSAFE_PARAGRAPH),
  icon: catalogAppSchema.shape.icon,
  builds: z.strictObject({
    /** The service's address, e.g. https://builds.robur.coop (no path). */
    service: artifactUrlSchema.refine((u) => {
      const url = new URL(u);
      return url.pathname === '/' && !url.search && !url.hash;
    }, 'the build service address must have no path'),
    job: jobNameSchema,
    sha256: sha256Schema.optional(),
    /** The CPU the job builds for; builder-web does not say, and robur builds x86_64. */
    arch: z.enum(['x86_64', 'aarch64']).optional(),
  }),
  resources: resourcesSchema,
});
export type BuildsJob = z.infer<typeof buildsJobSchema>;

export const catalogIndexSchema = z
  .strictObject({
    format: z.literal(INDEX_FORMAT),
    name: text(60),
    updated: z.iso.datetime(),
    apps: z
      .array(catalogAppSchema)
      .max(MAX_APPS)
      .refine((a) => unique(a, (x) => x.id), 'app ids must be unique'),
    /** Apps made by a builds service's jobs (an older Hearth refuses a catalog that has them). */
    jobs: z.array(buildsJobSchema).max(MAX_APPS).optional(),
  })
  .refine(
    ({ apps, jobs = [] }) => unique([...apps, ...jobs], (x) => x.id),
    'app ids must be unique',
  );
export type CatalogIndex = z.infer<typeof catalogIndexSchema>;

export const signedCatalogSchema = z.strictObject({
  format: z.literal(SIGNED_FORMAT),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'not a key id'),
  index: z.base64(),
  signature: z.base64().length(88), // 64 bytes
});
export type SignedCatalogFile = z.infer<typeof signedCatalogSchema>;

/** The first problem in a zod error, as a short phrase with where it was found. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'its contents are not valid';
  const where = issue.path.length ? issue.path.map(String).join('.') : 'the catalog';
  return `${where}: ${issue.message}`;
}
