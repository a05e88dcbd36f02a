// Serves a folder over HTTP on 127.0.0.1 with Range support, for the e2e specs' signed test
// catalog and its images. Run on the lab's laptop side; prints {"port": N} when ready.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

const root = normalize(process.argv[2] ?? '.');
const server = createServer((req, res) => {
  const file = normalize(
    join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)),
  );
  let size: number;
  try {
    if (!file.startsWith(root + sep)) throw new Error('outside');
    size = statSync(file).size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Math.min(Number(range[1]), size) : 0;
  res.writeHead(range ? 206 : 200, {
    'Content-Length': size - start,
    'Accept-Ranges': 'bytes',
    ...(range ? { 'Content-Range': `bytes ${start}-${size - 1}/${size}` } : {}),
  });
  createReadStream(file, { start }).pipe(res);
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
