import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const hmac = (key: Buffer | string, data: string) =>
  createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it: encodeURIComponent plus `!'()*`. */
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * Checks a request's SigV4 signature the way S3 does, written from the AWS documentation
 * ("Create a canonical request for Signature Version 4") independently of the SDK's signer:
 * the path is signed exactly as sent (S3 neither re-encodes nor normalises it), query pairs
 * are decoded, re-encoded and sorted, and only the headers named in SignedHeaders count.
 * Returns why it fails, or `undefined` when the signature is valid.
 */
export function sigv4Mismatch(
  request: { method: string; rawUrl: string; headers: IncomingHttpHeaders },
  secretAccessKey: string,
): string | undefined {
  const authorization = String(request.headers.authorization ?? '');
  const parsed =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!parsed) return `unparseable Authorization: ${authorization}`;
  const [, , date, region, service, signedHeaders, signature] = parsed as unknown as string[];
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date as string)) return 'x-amz-date does not match the scope date';
  const queryAt = request.rawUrl.indexOf('?');
  const path = queryAt < 0 ? request.rawUrl : request.rawUrl.slice(0, queryAt);
  const query = queryAt < 0 ? '' : request.rawUrl.slice(queryAt + 1);
  const canonicalQuery = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const at = pair.indexOf('=');
      const key = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
      const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
      return [rfc3986(key), rfc3986(value)] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = (signedHeaders as string).split(';');
  if (!names.includes('host')) return 'host is not signed';
  const canonicalHeaders = names
    .map((name) => {
      const value = request.headers[name];
      if (value === undefined) return `${name}:<missing>`;
      const text = Array.isArray(value) ? value.join(',') : value;
      return `${name}:${text.trim().replace(/\s+/g, ' ')}`;
    })
    .join('\n');
  const canonicalRequest = [
    request.method,
    path,
    canonicalQuery,
    `${canonicalHeaders}\n`,
    signedHeaders,
    String(request.headers['x-amz-content-sha256'] ?? ''),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, date as string), region as string), service as string),
    'aws4_request',
  );
  const expected = hmac(key, stringToSign).toString('hex');
  return expected === signature ? undefined : `signature mismatch for\n${canonicalRequest}`;
}
