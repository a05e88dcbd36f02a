// Validation for everything that enters main from the renderer. One schema per invoke
// channel; the type tests in ipc.test-d.ts keep this map and ipc.ts in step.
import { z } from 'zod';
import { serviceTypePattern, shortNamePattern } from './ids';

export const taskIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'not a task id');

const settingsFields = {
  theme: z.enum(['system', 'light', 'dark']),
  welcomeDone: z.boolean(),
  allowUnprotectedKey: z.boolean(),
  startAtLogin: z.boolean(),
};

export const settingsSchema = z.strictObject({
  ...settingsFields,
  // Added after the first release: settings saved before it read as the safe default.
  allowUnprotectedKey: z.boolean().default(false),
  startAtLogin: z.boolean().default(false),
  // Main's alone (not in a patch from the page): set once the "still running" notice was shown.
  closeToTrayNoticeShown: z.boolean().default(false),
});

// No defaults in a patch: a field left out must stay as it is, not be reset.
export const settingsPatchSchema = z.strictObject(settingsFields).partial();

const none = z.undefined();

/** An IPv4 address or a host name such as raspberrypi.local; never a URL or a path. */
export const addressSchema = z
  .string()
  .trim()
  .max(253)
  .regex(
    /^(?:\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*)$/,
    'not an address',
  );
export const portSchema = z.number().int().min(1).max(65535);
export const fingerprintSchema = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'not a fingerprint');
export const deviceIdSchema = z.uuid();
export const deviceNameSchema = z.string().trim().min(1).max(40);

export const appIdSchema = z.string().regex(shortNamePattern, 'not an app id');
/** An absolute folder path on this computer (POSIX or Windows), no control characters. */
export const backupFolderSchema = z
  .string()
  .trim()
  .min(1)
  .max(1024)
  .refine((p) => [...p].every((c) => c.charCodeAt(0) >= 0x20), 'not a folder path')
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'not an absolute folder path');

/** A backup run's id (BackupPoint.id). */
export const backupPointIdSchema = z.string().regex(/^[a-z0-9-]{8,64}$/, 'not a backup point');

export const appRefSchema = z.strictObject({ deviceId: deviceIdSchema, appId: appIdSchema });

export const provisionRequestSchema = z.strictObject({
  address: addressSchema,
  port: portSchema,
  fingerprint: fingerprintSchema,
  username: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'not a user name'),
  password: z.string().min(1).max(1024),
  sudoPassword: z.string().min(1).max(1024).optional(),
  allowInstall: z.boolean().optional(),
});

/** Stands for a file the owner chose in main's file dialog (never a path). */
export const imageTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not an image token');
const printable = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[\x20-\x7e]*$/, 'only printable ASCII');
export const volumeNameSchema = z.string().regex(shortNamePattern, 'not a volume name');
/** A DNS-SD service type such as _http._tcp. */
export const serviceTypeSchema = z.string().regex(serviceTypePattern, 'not a service type');

export const imageResourcesSchema = z.strictObject({
  memoryMiB: z.number().int().min(8).max(16384),
  disk: z.enum(['ide', 'virtio']),
  volumes: z
    .array(
      z.strictObject({ name: volumeNameSchema, sizeMiB: z.number().int().min(1).max(1048576) }),
    )
    .max(8)
    .refine((v) => new Set(v.map((x) => x.name)).size === v.length, 'a volume name repeats'),
  ports: z
    .array(
      z.strictObject({
        guest: portSchema,
        // Apps run without administrator rights on the device, which ports below 1024 need.
        host: portSchema.min(1024, 'choose a device port from 1024 up'),
        protocol: z.enum(['tcp', 'udp']),
        service: serviceTypeSchema.optional(),
      }),
    )
    .max(16)
    .refine(
      (p) => new Set(p.map((x) => `${x.protocol}/${x.host}`)).size === p.length,
      'a device port is published twice',
    ),
  bootArgs: printable(2048),
  health: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('console'), pattern: printable(200).min(1) }),
    z.strictObject({ kind: z.literal('tcp'), port: portSchema }),
    z.strictObject({
      kind: z.literal('http'),
      port: portSchema,
      path: printable(256).regex(/^\//, 'a path starts with /'),
    }),
  ]),
});

export const installFromFileSchema = imageResourcesSchema
  .extend({
    token: imageTokenSchema,
    deviceId: deviceIdSchema,
    name: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'no control characters'),
  })
  .refine(
    ({ health, ports }) => health.kind === 'console' || ports.some((p) => p.guest === health.port),
    'the health check uses a port that is not published',
  );

export const requestSchemas = {
  'app:info': none,
  'app:restartToUpdate': none,
  'settings:get': none,
  'settings:update': settingsPatchSchema,
  'tasks:list': none,
  'tasks:cancel': z.strictObject({ id: taskIdSchema }),
  'tasks:clearFinished': none,
  'checks:run': none,
  'devices:list': none,
  'devices:rename': z.strictObject({ id: deviceIdSchema, name: deviceNameSchema }),
  'devices:forget': z.strictObject({ id: deviceIdSchema }),
  'discovery:list': none,
  'discovery:addByAddress': z.strictObject({ address: addressSchema }),
  'discovery:scan': none,
  'provisioning:identify': z.strictObject({ address: addressSchema, port: portSchema }),
  'provisioning:start': provisionRequestSchema,
  'catalog:list': none,
  'catalog:add': z.strictObject({ url: z.string().trim().min(1).max(2048) }),
  'apps:list': none,
  'apps:install': z.strictObject({ deviceId: deviceIdSchema, appId: appIdSchema }),
  'apps:start': appRefSchema,
  'apps:stop': appRefSchema,
  'apps:restart': appRefSchema,
  'apps:remove': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    /** The app's name typed by the owner: only then is its data deleted too. */
    confirmDeleteData: z.string().max(64).optional(),
  }),
  'apps:setMemory': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    memoryMiB: z.number().int().min(8).max(16384),
  }),
  'apps:setSleep': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    /** Minutes without a visit before the app sleeps (at most a day); null: it always runs. */
    idleMinutes: z.number().int().min(1).max(1440).nullable(),
  }),
  'apps:console': appRefSchema,
  'apps:chooseImage': none,
  'apps:installFromFile': installFromFileSchema,
  'backups:setup': none,
  'backups:chooseFolder': none,
  'backups:createRepository': z.strictObject({ path: backupFolderSchema }),
  'backups:openRepository': z.strictObject({
    path: backupFolderSchema,
    password: z.string().trim().min(8).max(200),
  }),
  'backups:recoveryKit': none,
  'backups:saveKit': none,
  'backups:confirmKit': none,
  'backups:list': none,
  'backups:points': appRefSchema,
  'backups:allPoints': none,
  'backups:run': appRefSchema,
  'backups:restore': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    pointId: backupPointIdSchema,
    /** The device to restore onto: the app's own, or another one when the first is gone. */
    toDeviceId: deviceIdSchema,
    /** The device that keeps the copy (BackupPoint.heldBy); absent: this computer's backups. */
    heldBy: deviceIdSchema.optional(),
  }),
  'backups:drill': appRefSchema,
  'backups:setSchedule': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    schedule: z.strictObject({
      enabled: z.boolean(),
      everyHours: z
        .number()
        .int()
        .min(1)
        .max(24 * 31),
    }),
  }),
  'backups:setDestination': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    destination: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('computer') }),
      z.strictObject({ kind: z.literal('device'), deviceId: deviceIdSchema }),
    ]),
  }),
  'updates:list': none,
  'updates:check': none,
  'updates:setPolicy': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    policy: z.enum(['ask', 'auto']),
  }),
  'updates:start': appRefSchema,
  'updates:goBack': z.strictObject({
    deviceId: deviceIdSchema,
    appId: appIdSchema,
    /** 'now': keep the data as it is; 'before': the data as it was before the update. */
    data: z.enum(['now', 'before']),
  }),
  'alerts:list': none,
} as const;
