/**
 * The s3scan error hierarchy. Every error sets `name` and keeps `cause`, so a message that
 * reaches the user names what was wrong and the original error stays available for debugging.
 */
class ScannerError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScannerError';
  }
}

/** A config file, CLI flag or invoke payload that is invalid. The message names the field. */
class ConfigError extends ScannerError {
  public override name: string = 'ConfigError';
}

/** A resume was asked for, and there is no interrupted scan to continue. */
class NoCheckpointError extends ConfigError {
  public override name: string = 'NoCheckpointError';
}

/** Recorded evidence that cannot be read (bad JSON, unknown schemaVersion, schema violation). */
class EvidenceError extends ScannerError {
  public override name: string = 'EvidenceError';
}

/** A document that is not a bucket policy, or not JSON. */
class PolicyParseError extends ScannerError {
  public override name: string = 'PolicyParseError';
}

/** An AWS read that failed in a way that stops the whole scan (e.g. ListBuckets denied). */
class CollectError extends ScannerError {
  public override name: string = 'CollectError';
}

/** No AWS credentials could be found for a command that needs them. */
class CredentialsError extends ScannerError {
  public override name: string = 'CredentialsError';
}

/** The report store could not be read or written. */
class ReportStoreError extends ScannerError {
  public override name: string = 'ReportStoreError';
}

/**
 * A stored scan or store file that is not what was written: changed, truncated, missing, or
 * not listed in its scan's manifest (lib/report-store/integrity.ts).
 */
class IntegrityError extends ReportStoreError {
  public override name: string = 'IntegrityError';
}

/**
 * A stored scan's file already exists in an S3 store, left by an earlier, unfinished write of
 * the same scan id (or by another writer): stored files are created once and never replaced,
 * so the scan is written again under a new id (`retryOf` names this one).
 */
class ScanFilesTaken extends ReportStoreError {
  public constructor(
    public readonly scanId: string,
    /** The object that already existed. */
    public readonly key: string,
    options?: ErrorOptions,
  ) {
    super(
      `scan ${scanId} cannot be written: ${key} already exists (an earlier write of this scan that never reached index.json, or another writer), and stored files are never replaced`,
      options,
    );
    this.name = 'ScanFilesTaken';
  }
}

/** An AWS call that had no final answer within its deadline over all attempts. */
class CallDeadlineExceeded extends ScannerError {
  public readonly $metadata: { attempts?: number } = {};

  public constructor(
    /** The operation, e.g. `GetBucketPolicy`. */
    public readonly operation: string,
    public readonly deadlineMs: number,
  ) {
    super(
      `${operation} had no answer within its ${deadlineMs / 1000} s call deadline over all attempts (scan.callDeadlineMs)`,
    );
    this.name = 'CallDeadlineExceeded';
  }
}

/**
 * A bucket's S3 Inventory cannot be used (none configured, stale, unreadable, malformed):
 * `code` says which, and the object scan falls back or reports it.
 */
class InventoryUnavailableError extends ScannerError {
  public constructor(
    public readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'InventoryUnavailableError';
  }
}

/** A CSV record that cannot be split: longer than the limit, which means broken quoting. */
class CsvRecordError extends ScannerError {
  public override name: string = 'CsvRecordError';
}

/**
 * What the dashboard page shows a state page for, instead of the view asked: a store with no
 * scans, a folder that is not a report store, a store that cannot be read, a changed scan.
 */
export type DashboardProblem = 'no-scans' | 'not-a-store' | 'store-unreadable' | 'changed';

/**
 * A dashboard request that cannot be answered: the host answers it with this HTTP status and
 * message, and, for the states the page explains, which one it is and the command that fixes it.
 */
class DashboardRequestError extends ScannerError {
  public readonly problem: DashboardProblem | undefined;
  public readonly fix: string | undefined;

  public constructor(
    public readonly statusCode: 400 | 404 | 500,
    message: string,
    options?: ErrorOptions & { problem?: DashboardProblem; fix?: string },
  ) {
    super(message, options);
    this.name = 'DashboardRequestError';
    this.problem = options?.problem;
    this.fix = options?.fix;
  }
}

/**
 * An AWS answer s3scan turns into an error itself (a HEAD it sent directly, a response missing
 * a member), shaped like the SDK's errors (`name`, `$fault`, `$metadata`, `code`) so that one
 * classification reads both.
 */
class AwsResponseError extends ScannerError {
  public readonly $fault: 'client' | 'server';
  public readonly $metadata: {
    httpStatusCode?: number;
    requestId?: string;
    extendedRequestId?: string;
  };
  public readonly code?: string;

  public constructor(
    message: string,
    fields: {
      name: string;
      fault?: 'client' | 'server';
      metadata?: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
      code?: string;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = fields.name;
    this.$fault = fields.fault ?? 'client';
    this.$metadata = fields.metadata ?? {};
    if (fields.code !== undefined) this.code = fields.code;
  }
}

/**
 * An alert sink could not deliver. `permanent` says whether trying again can help (a revoked
 * Slack hook cannot); the message never carries the sink's secret.
 */
class AlertSinkError extends ScannerError {
  public constructor(
    public readonly sink: string,
    message: string,
    public readonly permanent: boolean,
    /** A short machine-readable reason (`maybe-posted`, `disabled`, an AWS error code). */
    public readonly code = permanent ? 'refused' : 'unavailable',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AlertSinkError';
  }
}

/** The dashboard page could not be put into (or taken out of) its bucket at deploy time. */
class PagePublishError extends ScannerError {
  public override name: string = 'PagePublishError';
}

export {
  AlertSinkError,
  AwsResponseError,
  CallDeadlineExceeded,
  CollectError,
  ConfigError,
  CredentialsError,
  CsvRecordError,
  DashboardRequestError,
  EvidenceError,
  IntegrityError,
  InventoryUnavailableError,
  NoCheckpointError,
  PagePublishError,
  PolicyParseError,
  ReportStoreError,
  ScanFilesTaken,
  ScannerError,
};
