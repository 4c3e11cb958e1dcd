import { type Finding, SEVERITIES } from '../engine/types.js';
import { CHANGE_KINDS, type ChangeKind, type Drift, type DriftEntry } from '../history/drift.js';
import type { SinkFilter } from './settings.js';

/** A change as sinks list it: its kind and its entry. */
export interface SelectedChange {
  kind: ChangeKind;
  entry: DriftEntry;
}

/** The finding a change is about: the current one, or for `gone` the last one seen. */
export const findingOf = (entry: DriftEntry): Finding => (entry.current ?? entry.previous)!;

/** Whether a finding passes a filter's severity, rule and account. */
export function passes(finding: Finding, filter: Required<SinkFilter>): boolean {
  if (SEVERITIES.indexOf(finding.severity) > SEVERITIES.indexOf(filter.minSeverity)) return false;
  if (filter.rules.length > 0 && !filter.rules.includes(finding.ruleId)) return false;
  return filter.accounts.length === 0 || filter.accounts.includes(finding.resource.account);
}

/**
 * The changes a sink sends, most urgent kind first (the order of {@link CHANGE_KINDS}), then
 * by severity, then by fingerprint, so that the same drift always gives the same list: the
 * ledger depends on it. A resolved or gone finding is judged by its previous severity.
 */
export function selectChanges(drift: Drift, filter: Required<SinkFilter>): SelectedChange[] {
  const kinds = CHANGE_KINDS.filter((kind) => filter.changes.includes(kind));
  return kinds.flatMap((kind) =>
    drift.changes[kind]
      // Each finding read once (a streamed drift parses it on access), then sorted by key.
      .map((entry) => ({ entry, finding: severityOf(entry) }))
      .filter(({ finding }) => passes(finding, filter))
      .map(({ entry, finding }) => ({ entry, rank: SEVERITIES.indexOf(finding.severity) }))
      .sort(
        (a, b) =>
          a.rank - b.rank ||
          (a.entry.fingerprint < b.entry.fingerprint
            ? -1
            : a.entry.fingerprint > b.entry.fingerprint
              ? 1
              : 0),
      )
      .map(({ entry }) => ({ kind, entry })),
  );
}

/** Resolved findings keep the severity they failed with: a fixed critical is news. */
function severityOf(entry: DriftEntry): Finding {
  const current = findingOf(entry);
  return entry.previous && current.status !== 'FAIL' && current.status !== 'ERROR'
    ? { ...current, severity: entry.previous.severity }
    : current;
}

const DAY_MS = 86_400_000;

/**
 * Active suppressions that end within `days` of the scan and were not warned about before
 * (`warned` holds fingerprint → the expiry already warned about). A suppression whose expiry
 * moves later is a new one, and is warned about again when it nears its end.
 */
export function expiringSuppressions(
  findings: readonly Finding[],
  scanTime: string,
  days: number,
  warned: ReadonlyMap<string, string>,
): Finding[] {
  const now = Date.parse(scanTime);
  return findings.filter((finding) => {
    const suppression = finding.suppression;
    if (!suppression?.active) return false;
    // A suppression applies through the whole of its `expires` day (UTC).
    const ends = Date.parse(`${suppression.expires}T23:59:59.999Z`);
    return ends - now <= days * DAY_MS && warned.get(finding.fingerprint) !== suppression.expires;
  });
}
