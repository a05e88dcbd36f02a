// Every path and name the lab owns, in one place, so `down` can find what `up` made even when
// the state file is missing or stale.
export const cacheDir = process.env.HEARTH_LAB_CACHE ?? '/var/cache/hearth-lab';
export const runDir = process.env.HEARTH_LAB_RUN ?? '/run/hearth-lab';
export const stateFile = `${runDir}/state.json`;
export const devicesDir = `${runDir}/devices`;
export const binDir = `${runDir}/bin`;
/** An executable that runs Debian's Chromium inside the laptop namespace (Playwright's executablePath). */
export const laptopChromium = `${binDir}/laptop-chromium`;

/** Every namespace the lab creates starts with this, which is how `down` recognises them. */
export const netnsPrefix = 'hearth-';
export const lanNetns = `${netnsPrefix}lan`;
export const laptopNetns = `${netnsPrefix}laptop`;
export const deviceNetns = (device: string): string => `${netnsPrefix}dev-${device}`;

export const debianMirror = process.env.HEARTH_LAB_MIRROR ?? 'http://deb.debian.org/debian';
export const debianSuite = 'bookworm';
