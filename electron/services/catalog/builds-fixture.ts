// Test and lab helper (not used by the shipped app): a local HTTP server that answers the way
// builder-web (builds.robur.coop) does when asked for JSON, so the builds-service source is
// tested against real HTTP and never against the live service.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256Of } from './test-catalog';

export interface FixtureBuild {
  uuid: string;
  /** RFC 3339: the service lists newest first (it gives the time in no JSON). */
  start: string;
  /** The main binary; null for a failed build. */
  image: Uint8Array | null;
  /** The Solo5 target, which builder-web shows only as the image's filename suffix (hvt). */
  abi?: string;
  /** Bytes sent for the image instead of `image` (a service that serves the wrong file). */
  served?: Uint8Array;
}

export interface BuildsFixture {
  origin: string;
  jobs: Map<string, FixtureBuild[]>;
  /** A path answered with this text as it is: a broken service, or a file served beside it. */
  raw: Map<string, string>;
  requests: { path: string; accept: string | undefined }[];
  close(): Promise<void>;
}

const filename = (job: string, b: FixtureBuild) => `${job}.${b.abi ?? 'hvt'}`;

/**
 * builder-web's JSON for GET /job/<job> (views.ml, Job.make_json): one entry per different
 * image, newest first; failed builds are not listed.
 */
function jobJson(job: string, builds: readonly FixtureBuild[]) {
  const seen = new Set<string>();
  const listed = [...builds]
    .filter((b) => b.image)
    .sort((a, b) => Date.parse(b.start) - Date.parse(a.start))
    .filter((b) => {
      const sha = sha256Of(b.image ?? new Uint8Array());
      if (seen.has(sha)) return false;
      seen.add(sha);
      return true;
    });
  return {
    builds: listed.map((b) => ({
      uuid: b.uuid,
      main_binary: b.image
        ? { filename: filename(job, b), sha256: sha256Of(b.image), size: b.image.length }
        : null,
    })),
  };
}

export async function startBuildsFixture(
  jobs: Record<string, FixtureBuild[]> = {},
): Promise<BuildsFixture> {
  const table = new Map(Object.entries(jobs));
  const raw = new Map<string, string>();
  const requests: BuildsFixture['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    requests.push({ path: url.pathname + url.search, accept: req.headers.accept });
    const json = (value: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const trap = raw.get(url.pathname);
    if (trap !== undefined) return void res.writeHead(200).end(trap);
    const redirect = (location: string) => void res.writeHead(302, { location }).end();
    const find = (job: string, uuid: string) => table.get(job)?.find((x) => x.uuid === uuid);
    // builder-web sends the image from the build's files, and main-binary redirects there.
    const file = /^\/job\/([^/]+)\/build\/([^/]+)\/f\/bin\/([^/]+)$/.exec(url.pathname);
    if (file) {
      const [, job = '', uuid = '', name = ''] = file;
      const b = find(job, uuid);
      const bytes = b && name === filename(job, b) ? (b.served ?? b.image) : undefined;
      if (!bytes) return void res.writeHead(404).end();
      return void res
        .writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': bytes.length,
        })
        .end(Buffer.from(bytes));
    }
    const binary = /^\/job\/([^/]+)\/build\/([^/]+)\/main-binary$/.exec(url.pathname);
    if (binary) {
      const [, job = '', uuid = ''] = binary;
      const b = find(job, uuid);
      if (!b?.image) return void res.writeHead(404).end();
      return redirect(`/job/${job}/build/${uuid}/f/bin/${filename(job, b)}`);
    }
    // A build's page and /hash (a redirect to it) are HTML whatever the client asks for.
    if (url.pathname === '/hash') {
      const want = url.searchParams.get('sha256');
      for (const [job, builds] of table)
        for (const b of builds)
          if (b.image && sha256Of(b.image) === want) return redirect(`/job/${job}/build/${b.uuid}`);
      return void res.writeHead(404).end('<html>This page does not exist</html>');
    }
    const page = /^\/job\/([^/]+)\/build\/([^/]+)\/?$/.exec(url.pathname);
    if (page)
      return find(page[1] ?? '', page[2] ?? '')
        ? void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a build</html>')
        : void res.writeHead(404).end();
    // Like builder-web, the job's page is HTML unless the client asks for JSON.
    const job = /^\/job\/([^/]+)\/?$/.exec(url.pathname);
    const builds = job ? table.get(job[1] ?? '') : undefined;
    if (job && builds) {
      if (!req.headers.accept?.includes('application/json'))
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      return json(jobJson(job[1] ?? '', builds));
    }
    res.writeHead(404).end('Resource not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    jobs: table,
    raw,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
