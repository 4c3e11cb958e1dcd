/**
 * Turns an untrusted name (bucket names come from evidence files too) into one safe path
 * segment: no separators, no `..`, nothing a shell or spreadsheet would interpret.
 */
export function safeSegment(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
  return cleaned === '' || /^\.+$/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** Where a bucket's evidence lives inside a scan folder. */
export function bucketEvidencePath(accountId: string, region: string, bucket: string): string {
  return `evidence/${safeSegment(accountId)}/${safeSegment(region)}/${safeSegment(bucket)}.json`;
}

/** Where a bucket's per-object CSV lives inside a scan folder. */
export function objectCsvPath(accountId: string, bucket: string): string {
  return `objects/${safeSegment(accountId)}/${safeSegment(bucket)}.csv.gz`;
}
