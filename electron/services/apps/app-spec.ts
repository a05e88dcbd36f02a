// spec.json on the device: what was deployed, so any laptop (or a reinstalled Hearth) can
// tell what an app is and how it was launched. Parsed strictly: it comes from the device.
import { z } from 'zod';
import { linkPathPattern, serviceTypePattern, shortNamePattern } from '../../../shared/ids';

/** Checked as the catalog checks them (shared/ids.ts): the "Open" link is built from them. */
export const serviceTypeSchema = z.string().regex(serviceTypePattern);
export const linkPathSchema = z.string().max(256).regex(linkPathPattern);

export interface PublishedPort {
  name: string;
  guest: number;
  host: number;
  protocol: 'tcp' | 'udp';
  service?: string;
  path?: string;
}

const linkFields = z.object({
  service: serviceTypeSchema.optional(),
  path: linkPathSchema.optional(),
});

/**
 * One published port. A service type or link path that fails its check drops both, so the
 * port gets no "Open" link at all, while the app stays listed and the owner can still stop
 * or remove it (a spec that failed as a whole would hide the app).
 */
const publishedPortSchema = z
  .object({
    name: z.string().regex(shortNamePattern),
    guest: z.number().int().min(1).max(65535),
    host: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']),
    service: z.unknown().optional(),
    path: z.unknown().optional(),
  })
  .transform(({ service: rawService, path: rawPath, ...port }): PublishedPort => {
    const link = linkFields.safeParse({ service: rawService, path: rawPath });
    if (!link.success) return port;
    const { service, path } = link.data;
    return {
      ...port,
      ...(service === undefined ? {} : { service }),
      ...(path === undefined ? {} : { path }),
    };
  });

export const appSpecSchema = z.object({
  appId: z.string().regex(shortNamePattern),
  name: z.string().min(1).max(64),
  version: z.string().max(32),
  target: z.string().max(32),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  initrdSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  disk: z.enum(['ide', 'virtio']),
  memoryMiB: z.number().int().min(8).max(65536),
  volumes: z
    .array(
      z.object({
        name: z.string().regex(shortNamePattern),
        sizeMiB: z.number().int().min(1),
      }),
    )
    .max(16),
  ports: z.array(publishedPortSchema).max(16),
  bootArgs: z.string().max(2048),
  health: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('console'), pattern: z.string().min(1).max(200) }),
    z.object({ kind: z.literal('tcp'), port: z.number().int() }),
    // The laptop fetches this path on the device: the same shape as a link's.
    z.object({ kind: z.literal('http'), port: z.number().int(), path: linkPathSchema }),
  ]),
  accel: z.enum(['kvm', 'tcg']),
  /** Solo5 tenders: the devices the image's manifest names, wired by the launcher. */
  solo5: z
    .object({
      devices: z
        .array(
          z.object({
            name: z.string().regex(/^[A-Za-z0-9]{1,67}$/),
            type: z.enum(['NET_BASIC', 'BLOCK_BASIC']),
          }),
        )
        .max(63),
    })
    .optional(),
  installedAt: z.string().max(40),
  /**
   * "Sleep when idle" (device/sleep-units.ts): seconds without a visit before the device stops
   * it; absent, the app always runs. The sleep-test spec may set seconds; the owner sets minutes.
   */
  sleep: z.object({ idleSeconds: z.number().int().min(1).max(86_400) }).optional(),
});

export type AppSpec = z.infer<typeof appSpecSchema>;

export function parseAppSpec(text: string): AppSpec | null {
  try {
    const parsed = appSpecSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
