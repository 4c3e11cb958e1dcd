import type { Finding } from '../engine/types.js';
import { ConfigError } from '../errors.js';
import { type Drift, firstSeenOf, scopeOf } from '../history/drift.js';
import { diffFindingStreams } from '../history/drift-stream.js';
import { previousLines, previousViewOf } from '../history/previous.js';
import type { ReportStore } from '../report-store/types.js';
import { TOOL_VERSION } from '../version.js';
import { type AlertReport, dispatchAlerts } from './dispatch.js';
import { expiringSuppressions } from './select.js';
import type { AlertSettings } from './settings.js';
import { DEFAULT_ALERT_SETTINGS } from './settings.js';
import type { AlertDigest, AlertSink } from './sink.js';

/**
 * What the alert run of a scan carries to the next one, as the ledger record `state`: when
 * each failing finding was first seen, when Security Hub last took each finding, and which
 * suppression expiries were warned about. Fingerprints outside a scan's scope are carried over
 * unchanged, so a scoped scan never forgets what it did not look at.
 */
export interface AlertState {
  firstSeen: Record<string, string>;
  securityHubImported: Record<string, string>;
  expiryWarned: Record<string, string>;
}

const EMPTY_STATE: AlertState = { firstSeen: {}, securityHubImported: {}, expiryWarned: {} };

/** The drift, digest and report of one alert run. */
export interface AlertRun {
  drift: Drift;
  digest: AlertDigest;
  report: AlertReport;
  previousScanId?: string;
}

const DAY_MS = 86_400_000;

async function* noLines(): AsyncIterable<string[]> {}

/**
 * Alerts for one stored scan: compares it with the previous scan of its scope, builds the
 * digest (changes, expiring suppressions, Security Hub re-imports due), sends it through the
 * ledger (exactly once per entry, see {@link dispatchAlerts}) and records the state the next
 * scan's alerts start from. With `dryRun` nothing is sent or written.
 */
export async function alertScan(
  store: ReportStore,
  scanId: string,
  settings: AlertSettings | undefined,
  sinks: (settings: AlertSettings) => AlertSink[],
  options: {
    dryRun?: boolean;
    signal?: AbortSignal;
    resendInDoubt?: ReadonlySet<string>;
    /** More of what the scan was for (an automatic fix it planned), added to the digest's cause. */
    note?: string;
  } = {},
): Promise<AlertRun> {
  const alerts = settings ?? { ...DEFAULT_ALERT_SETTINGS };
  const index = await store.readIndex();
  const entry = index?.scans.find((s) => s.scanId === scanId);
  if (!index || !entry)
    throw new ConfigError(`scan ${scanId} is not in the index of ${store.describe()}`);
  const ledger = store.alertLedger();
  const summary = await store.readSummary(scanId);
  const scope = scopeOf(summary);
  // The previous scan of the scope, overlaid with the rescans since: what was last seen.
  const view = previousViewOf(index.scans, entry);
  const before = view?.newest;
  const state = before
    ? (((await ledger.read(before.scanId, 'state')) as AlertState | undefined) ?? EMPTY_STATE)
    : EMPTY_STATE;
  // Streamed: a million findings are read, never held. What the digest needs beyond the drift
  // is gathered on the way (expiring suppressions, the fingerprints this scan looked at).
  const expiring: Finding[] = [];
  const looked = new Set<string>();
  const warned = new Map(Object.entries(state.expiryWarned));
  const drift = await diffFindingStreams(
    {
      scanId: before?.scanId ?? '(none)',
      scanTime: before?.scanTime ?? summary.scanTime,
      lines: view ? previousLines(store, view) : () => noLines(),
      firstSeen: new Map(Object.entries(state.firstSeen)),
    },
    { scanId, scanTime: summary.scanTime, lines: () => store.findingLines(scanId) },
    scope,
    {
      onPrevious: (p) => looked.add(p.fingerprint),
      onCurrent: (p, line) => {
        looked.add(p.fingerprint);
        // Only a suppressed finding is parsed, for its expiry.
        if (p.suppressed)
          expiring.push(
            ...expiringSuppressions(
              [JSON.parse(line) as Finding],
              summary.scanTime,
              alerts.expiringSuppressionDays,
              warned,
            ),
          );
      },
    },
  );
  const scanTime = Date.parse(summary.scanTime);
  const reimportDays = alerts.securityHub?.reimportDays ?? 30;
  // Only Security Hub re-imports; the due ones are picked by fingerprint before any is parsed.
  const reimport: Finding[] = alerts.securityHub
    ? drift.changes['still-failing']
        .filter((e) => {
          const last = state.securityHubImported[e.fingerprint];
          return !last || scanTime - Date.parse(last) >= reimportDays * DAY_MS;
        })
        .map((e) => e.current!)
    : [];
  const digest: AlertDigest = {
    drift,
    account: summary.accountId,
    toolVersion: TOOL_VERSION,
    baseline: before === undefined,
    expiring,
    reimport,
    settings: alerts,
    ...(alerts.link ? { link: alerts.link } : {}),
    ...(summary.rescanOf?.events.length || options.note
      ? {
          cause: [
            ...(summary.rescanOf?.events.length
              ? [`rescan after ${summary.rescanOf.events.join(', ')}`]
              : []),
            ...(options.note ? [options.note] : []),
          ].join('; '),
        }
      : {}),
  };
  const report = await dispatchAlerts(scanId, digest, sinks(alerts), ledger, {
    dryRun: options.dryRun ?? false,
    signal: options.signal,
    resendInDoubt: options.resendInDoubt,
  });
  if (!options.dryRun) {
    const imported = { ...state.securityHubImported };
    const delivered = new Set(
      report.sinks.find((s) => s.sink === 'securityhub')?.deliveredIds ?? [],
    );
    for (const id of delivered) {
      const fingerprint = id.slice(id.lastIndexOf('-') + 1);
      imported[fingerprint] = summary.scanTime;
    }
    const anyDelivered = report.sinks.some((s) => s.sent + s.alreadySent > 0);
    // Fingerprints this scan looked at take their first-seen from this drift; the rest carry over.
    const next: AlertState = {
      firstSeen: {
        ...Object.fromEntries(Object.entries(state.firstSeen).filter(([fp]) => !looked.has(fp))),
        ...Object.fromEntries(firstSeenOf(drift)),
      },
      securityHubImported: imported,
      expiryWarned: {
        ...state.expiryWarned,
        ...(anyDelivered
          ? Object.fromEntries(expiring.map((f) => [f.fingerprint, f.suppression?.expires ?? '']))
          : {}),
      },
    };
    await ledger.write(scanId, 'state', next);
  }
  return { drift, digest, report, ...(before ? { previousScanId: before.scanId } : {}) };
}

/**
 * When each failing finding of a stored scan was first seen, for exports: the state its own
 * alert run recorded, or else the previous scan's (a finding failing since then keeps its
 * time; one not in it was first seen now). Empty when no alert run ever recorded one.
 */
export async function firstSeenOfScan(
  store: ReportStore,
  scanId: string,
): Promise<Map<string, string>> {
  const ledger = store.alertLedger();
  const own = (await ledger.read(scanId, 'state')) as AlertState | undefined;
  if (own) return new Map(Object.entries(own.firstSeen));
  const index = await store.readIndex();
  const entry = index?.scans.find((s) => s.scanId === scanId);
  const before = index && entry ? previousViewOf(index.scans, entry)?.newest : undefined;
  const previous = before
    ? ((await ledger.read(before.scanId, 'state')) as AlertState | undefined)
    : undefined;
  return new Map(Object.entries(previous?.firstSeen ?? {}));
}
