// Validation for everything that enters main from the renderer. One schema per invoke
// channel; the type tests in ipc.test-d.ts keep this map and ipc.ts in step.
import { z } from 'zod';

export const taskIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'not a task id');

const settingsFields = {
  theme: z.enum(['system', 'light', 'dark']),
  welcomeDone: z.boolean(),
  allowUnprotectedKey: z.boolean(),
};

export const settingsSchema = z.strictObject({
  ...settingsFields,
  // Added after the first release: settings saved before it read as the safe default.
  allowUnprotectedKey: z.boolean().default(false),
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

export const appIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'not an app id');
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

export const requestSchemas = {
  'app:info': none,
  'settings:get': none,
  'settings:update': settingsPatchSchema,
  'tasks:list': none,
  'tasks:cancel': z.strictObject({ id: taskIdSchema }),
  'tasks:clearFinished': none,
  'checks:run': none,
  'devices:list': none,
  'devices:rename': z.strictObject({ id: deviceIdSchema, name: deviceNameSchema }),
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
  'apps:console': appRefSchema,
} as const;
