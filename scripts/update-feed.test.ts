// The update feed as a release gets it: electron-builder's own loading of electron-builder.yml
// (with its extends) under the HEARTH_UPDATE_FEED the pipeline sets, and refusals of every
// value an installer must not ship with.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { githubReleaseFeed, UPDATE_FEED_VARIABLE, updateFeedUrl } from './update-feed';

const root = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const { getConfig } = require('app-builder-lib/out/util/config/config') as {
  getConfig: (dir: string, file: string, fromOptions: null) => Promise<Record<string, unknown>>;
};
const workflowText = readFileSync(join(root, '.github/workflows/release.yml'), 'utf8');
const workflow = parse(workflowText) as { env: Record<string, string> };

/** electron-builder's configuration as `npm run dist` loads it, with the feed set to `feed`. */
async function builderConfig(feed: string | undefined): Promise<Record<string, unknown>> {
  const before = process.env[UPDATE_FEED_VARIABLE];
  if (feed === undefined) delete process.env[UPDATE_FEED_VARIABLE];
  else process.env[UPDATE_FEED_VARIABLE] = feed;
  try {
    return await getConfig(root, 'electron-builder.yml', null);
  } finally {
    if (before === undefined) delete process.env[UPDATE_FEED_VARIABLE];
    else process.env[UPDATE_FEED_VARIABLE] = before;
  }
}

/** The workflow's feed as GitHub fills it in for a repository. */
const pipelineFeed = (repository: string) =>
  workflow.env[UPDATE_FEED_VARIABLE]!.replace(/\$\{\{\s*github\.repository\s*\}\}/g, repository);

// Loading electron-builder and its config's TypeScript parents takes seconds on a busy machine.
describe('the update feed', { timeout: 60_000 }, () => {
  it('is the releases the pipeline publishes to, written into the installers’ config', async () => {
    const feed = pipelineFeed('hearth-home/hearth');
    expect(feed).toBe(githubReleaseFeed('hearth-home/hearth'));
    expect(await builderConfig(feed)).toMatchObject({
      publish: { provider: 'generic', url: feed },
    });
    // It uploads to that same repository's release: no gh command names another one.
    expect(workflowText).not.toMatch(/\bgh [^\n]*(\s-R\s|--repo\b)|GH_REPO/);
    expect(workflowText).toContain('gh release upload "$GITHUB_REF_NAME" ${{ matrix.feed }}');
  });

  it('is set in one place: electron-builder.yml names no address of its own', () => {
    const yml = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as object;
    expect(yml).not.toHaveProperty('publish');
    for (const key of ['linux', 'mac', 'win', 'nsis', 'dmg', 'deb'])
      expect((yml as Record<string, object | undefined>)[key] ?? {}).not.toHaveProperty('publish');
  });

  it.each([
    [undefined, /HEARTH_UPDATE_FEED is not set/],
    ['', /HEARTH_UPDATE_FEED is not set/],
    ['https://github.com/OWNER/REPO/releases/latest/download', /is the placeholder/],
    [pipelineFeed('<owner>/<repo>'), /is the placeholder/],
    ['https://updates.example.com/hearth', /is the placeholder/],
    ['http://github.com/hearth-home/hearth/releases/latest/download', /must be https/],
    ['github.com/hearth-home/hearth', /not an address/],
  ])('refuses to build installers with %s', async (feed, sentence) => {
    await expect(builderConfig(feed)).rejects.toThrow(sentence);
    expect(() => updateFeedUrl(feed)).toThrow(sentence);
  });

  it('keeps the address as given, without a trailing slash', () => {
    expect(updateFeedUrl(' https://updates.hearth.org/stable/ ')).toBe(
      'https://updates.hearth.org/stable',
    );
  });
});
