// Where installed Hearths look for their own updates. One setting, HEARTH_UPDATE_FEED, which
// the release pipeline sets to the releases it uploads to; electron-builder.yml extends this
// file, so every `npm run dist` writes that address into each app's app-update.yml (what
// electron-updater reads) and refuses to build without a real one: an installer built against
// a missing or placeholder feed would look for updates nowhere, for as long as it is installed.
import type { Configuration } from 'electron-builder';

export const UPDATE_FEED_VARIABLE = 'HEARTH_UPDATE_FEED';

/** The feed of a GitHub repository's releases: the latest published release's assets. */
export function githubReleaseFeed(repository: string): string {
  return `https://github.com/${repository}/releases/latest/download`;
}

// A template's stand-ins: OWNER/REPO, <owner>, and the domains kept for examples.
const placeholderPath = /\/(OWNER|REPO)(\/|$)|%3C|%3E/;
const placeholderHost = /(^|\.)(example\.(com|org|net)|invalid|localhost)$/;

/** The feed's address from the setting, or a sentence saying why no installer can use it. */
export function updateFeedUrl(value: string | undefined): string {
  const example = githubReleaseFeed('<owner>/<repo>');
  if (!value?.trim())
    throw new Error(
      `${UPDATE_FEED_VARIABLE} is not set: set it to the address the update feed is published at (the release pipeline uses ${example}), or the installers would look for updates nowhere.`,
    );
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`${UPDATE_FEED_VARIABLE} is "${value}", which is not an address.`);
  }
  // electron-updater trusts the sha512 sums the feed names: over http anyone on the way
  // could name their own.
  if (url.protocol !== 'https:')
    throw new Error(`${UPDATE_FEED_VARIABLE} is ${value}: the update feed must be https.`);
  if (placeholderPath.test(url.pathname) || placeholderHost.test(url.hostname))
    throw new Error(
      `${UPDATE_FEED_VARIABLE} is the placeholder ${value}: set it to where releases are published, such as ${example} for a GitHub repository.`,
    );
  return url.href.replace(/\/$/, '');
}

/** electron-builder.yml extends this: the generic feed electron-updater checks. */
export default function updateFeedConfig(): Configuration {
  return {
    publish: { provider: 'generic', url: updateFeedUrl(process.env[UPDATE_FEED_VARIABLE]) },
  };
}
