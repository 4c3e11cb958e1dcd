import { createGunzip } from 'node:zlib';

/**
 * A gzipped NDJSON stream decompressed as it is read, in chunks of whole lines (each ends
 * where a line does; the rest waits for the next chunk). Small zlib chunks keep each piece
 * short-lived, which keeps a million-line read out of the old generation of the heap.
 * A truncated or corrupt gzip stream fails with zlib's error, never with fewer lines.
 */
export async function* gunzippedChunks(source: AsyncIterable<Uint8Array>): AsyncIterable<Buffer> {
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
  let rest: Buffer | undefined;
  for await (const piece of gunzip) {
    const chunk = rest ? Buffer.concat([rest, piece as Buffer]) : (piece as Buffer);
    const end = chunk.lastIndexOf(0x0a);
    if (end < 0) {
      rest = chunk;
      continue;
    }
    rest = end + 1 < chunk.length ? chunk.subarray(end + 1) : undefined;
    yield chunk.subarray(0, end + 1);
  }
  await feed;
  if (rest && rest.length > 0) yield rest;
}

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
