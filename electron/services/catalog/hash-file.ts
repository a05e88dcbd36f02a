// The size and sha256 of a file on disk, read as a stream so a large image never sits
// in memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function hashFile(
  path: string,
  signal?: AbortSignal,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { signal })) {
    const bytes = chunk as Buffer;
    size += bytes.byteLength;
    hash.update(bytes);
  }
  return { size, sha256: hash.digest('hex') };
}
