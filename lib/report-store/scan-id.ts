import { randomBytes } from 'node:crypto';

/**
 * A new scan id: the scan time to the second (sortable, readable) and 48 random bits, so two
 * scans started in the same second, on any host, never share an id. Stored scans are
 * immutable, so an id is never reused.
 */
export function newScanId(now: Date): string {
  const time = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${time}-${randomBytes(6).toString('hex')}`;
}
