// Every sentence the catalog and the downloader can say to the owner, in one place. They
// use the existing stable codes for now; the codes proposed for shared/errors.ts are
// named beside each so switching is a one-file change.
import { HearthError } from '../../../shared/errors';

const NOT_TRUSTED =
  'This app catalog is not signed by anyone Hearth trusts, so Hearth will not use it.';

/** Unsigned, wrongly signed, or signed by a key Hearth does not pin. (CATALOG_UNTRUSTED) */
export function catalogNotTrusted(reason: string): HearthError {
  return new HearthError('INVALID_INPUT', NOT_TRUSTED, { cause: new Error(reason) });
}

/** Not a Hearth catalog at all, or signed contents Hearth cannot read. (CATALOG_INVALID) */
export function catalogDamaged(reason: string): HearthError {
  return new HearthError(
    'INVALID_INPUT',
    'This app catalog is damaged or is not a Hearth app catalog, so Hearth will not use it.',
    { cause: new Error(reason) },
  );
}

/** A signed catalog whose contents break Hearth's rules (CATALOG_INVALID). */
export function catalogRejected(detail: string): HearthError {
  return new HearthError(
    'INVALID_INPUT',
    `This app catalog is correctly signed but breaks Hearth's rules, so Hearth will not use it (${detail}).`,
  );
}

/** A catalog written for a later Hearth. (CATALOG_TOO_NEW) */
export function catalogTooNew(): HearthError {
  return new HearthError(
    'INVALID_INPUT',
    'This app catalog needs a newer version of Hearth. Update Hearth and try again.',
  );
}

/** (CATALOG_TOO_LARGE) */
export function catalogTooLarge(maxBytes: number): HearthError {
  return new HearthError(
    'INVALID_INPUT',
    `This app catalog is larger than Hearth accepts (${Math.round(maxBytes / 1024)} KiB), so Hearth will not use it.`,
  );
}

/** (CATALOG_URL_REFUSED) */
export function urlRefused(sentence: string): HearthError {
  return new HearthError('INVALID_INPUT', sentence);
}

/** The laptop could not fetch something. (NETWORK_FAILED) */
export function fetchFailed(what: string, cause: unknown): HearthError {
  return new HearthError(
    'INTERNAL',
    `Hearth could not download ${what}. Check this computer's internet connection and try again.`,
    { cause },
  );
}

/** (APP_NOT_FOUND) */
export function appNotFound(appId: string): HearthError {
  return new HearthError('NOT_FOUND', `No app catalog offers an app called "${appId}".`);
}

/** (NO_BUILD_FOR_DEVICE) */
export function noBuildForDevice(appName: string, device: string, version?: string): HearthError {
  const which = version ? `version ${version}` : 'version';
  return new HearthError('NOT_FOUND', `${appName} has no ${which} for this device (${device}).`);
}

/** The bytes are not the ones the catalog promised. (DOWNLOAD_MISMATCH) */
export function downloadMismatch(label: string, reason: string): HearthError {
  return new HearthError(
    'INVALID_INPUT',
    `The download of ${label} did not match what the catalog promised, so Hearth threw it away. Nothing was installed.`,
    { cause: new Error(reason) },
  );
}

/**
 * A correctly signed index older than the one Hearth has: a stale mirror, or someone replaying
 * an old catalog to bring back versions with known flaws. (CATALOG_ROLLBACK)
 */
export function olderCopyRefused(name: string): HearthError {
  return new HearthError(
    'INVALID_INPUT',
    `The app catalog "${name}" sent an older copy of itself than the one Hearth already has, so Hearth refused it and keeps using its own copy.`,
  );
}

/**
 * A builds service (builder-web) could not be reached or answered with an error. The catalog's
 * other apps, and the builds found there before, stay offered. (NETWORK_FAILED)
 */
export function buildsServiceUnreachable(host: string, cause: unknown): HearthError {
  return new HearthError(
    'INTERNAL',
    `Hearth could not reach the build service ${host}, so it shows the apps it found there before and will try again later.`,
    { cause },
  );
}

/** A builds service answered with something that is not builder-web's JSON. (CATALOG_INVALID) */
export function buildsServiceGarbled(host: string, detail: string): HearthError {
  return new HearthError(
    'INVALID_INPUT',
    `The build service ${host} sent an answer Hearth does not understand, so Hearth keeps the apps it found there before.`,
    { cause: new Error(detail) },
  );
}

/** A build the service offers that Hearth will not install, and why, in the owner's words. */
export function buildRefused(appName: string, reason: string): HearthError {
  return new HearthError('INVALID_INPUT', `Hearth does not offer ${appName} right now: ${reason}.`);
}
