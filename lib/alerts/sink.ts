import type { Drift } from './drift.js';

/** What every sink is given for one scan: the drift, and where people can read more. */
export interface AlertDigest {
  drift: Drift;
  /** The report or dashboard of the later scan. */
  link?: string;
  /** The account's name or id, as people know it. */
  account: string;
}

/** What a sink did with a digest. */
export interface SinkResult {
  sink: string;
  /** Messages (or entries) the far end accepted. */
  delivered: number;
}

/**
 * A place alerts go (Slack, SNS, EventBridge, Security Hub). A sink that fails throws an
 * `AlertSinkError` naming what went wrong and never the sink's secret (a webhook URL).
 */
export interface AlertSink {
  readonly name: string;
  send(digest: AlertDigest, signal?: AbortSignal): Promise<SinkResult>;
}
