/**
 * The bytes of an S3 response body. The SDK's body is a Node stream (with `transformToString`),
 * a test's may be any async iterable: reading it as one keeps both working.
 */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
