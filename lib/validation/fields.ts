/**
 * The JSON Schemas of the values every surface names the same way (the config file, invoke
 * payloads, Distributed Map items, evidence): declared once, so a scan id or an account id is
 * the same thing wherever it is checked.
 */

/** A scan id: what the store uses as a folder name, and Step Functions as an execution name. */
export const SCAN_ID_FIELD = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
} as const;

/** A 12-digit AWS account id. */
export const ACCOUNT_ID_FIELD = { type: 'string', pattern: '^\\d{12}$' } as const;

/** An AWS region name (`eu-west-1`, `us-gov-west-1`). */
export const REGION_FIELD = { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' } as const;

/** A bucket name as the plan carries it (S3 checks the name itself). */
export const BUCKET_NAME_FIELD = { type: 'string', minLength: 1, maxLength: 255 } as const;
