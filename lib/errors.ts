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
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A resume was asked for, and there is no interrupted scan to continue. */
class NoCheckpointError extends ConfigError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NoCheckpointError';
  }
}

/** Recorded evidence that cannot be read (bad JSON, unknown schemaVersion, schema violation). */
class EvidenceError extends ScannerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvidenceError';
  }
}

/** A document that is not a bucket policy, or not JSON. */
class PolicyParseError extends ScannerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PolicyParseError';
  }
}

/** An AWS read that failed in a way that stops the whole scan (e.g. ListBuckets denied). */
class CollectError extends ScannerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CollectError';
  }
}

/** No AWS credentials could be found for a command that needs them. */
class CredentialsError extends ScannerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CredentialsError';
  }
}

/** The report store could not be read or written. */
class ReportStoreError extends ScannerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportStoreError';
  }
}

export {
  CollectError,
  ConfigError,
  CredentialsError,
  EvidenceError,
  NoCheckpointError,
  PolicyParseError,
  ReportStoreError,
  ScannerError,
};
