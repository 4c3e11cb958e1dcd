import { createGunzip } from 'node:zlib';

/**
 * The lines of a gzipped NDJSON stream, decompressed as they are read, in batches (one per
 * zlib chunk: a yield per line would cost more than the line); blank lines skipped. Small
 * chunks keep each batch short-lived, which keeps a million-line read out of the old
 * generation of the heap. A truncated or corrupt stream fails, never with fewer lines.
 */
export async function* gunzippedLines(source: AsyncIterable<Uint8Array>): AsyncIterable<string[]> {
  const gunzip = createGunzip({ chunkSize: 32 * 1024 });
  const feed = (async () => {
    try {
      for await (const chunk of source)
        if (!gunzip.write(chunk)) await new Promise((resolve) => gunzip.once('drain', resolve));
      gunzip.end();
    } catch (error) {
      gunzip.destroy(error as Error);
    }
  })();
  let rest = '';
  for await (const chunk of gunzip) {
    const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    // The store writes no blank lines but the last newline; a hand-edited file may have some.
    const batch = lines.every((line) => line !== '')
      ? lines
      : lines.filter((line) => line.trim() !== '');
    if (batch.length > 0) yield batch;
  }
  await feed;
  if (rest.trim() !== '') yield [rest];
}
