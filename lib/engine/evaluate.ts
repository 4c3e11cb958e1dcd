import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { ACCOUNTS_EVIDENCE_PATH, bucketEvidencePath } from '../evidence/paths.js';
import { probeFailure } from '../evidence/probe.js';
import type {
  AccessPointEvidence,
  AccountEvidence,
  AccountPolicyLayers,
  BucketEvidence,
  ScanEvidence,
} from '../evidence/types.js';
import {
  analyzePolicySafely,
  type EnforcingStatement,
  type PolicyAnalysis,
  type PolicyLayerDocument,
  type PolicyVerdicts,
} from '../policy/analyze.js';
import { PolicyAnalysisCache } from '../policy/template-cache.js';
import { globMatch } from '../text/glob.js';
import { COMPLETE, objectAssurance, withBound } from './assurance.js';
import { accountDocuments, type LayerStatus, layerStatus } from './layers.js';
import {
  type AccessPointContext,
  type AccessPointRule,
  type AccountRule,
  type AppliedSuppression,
  type BucketContext,
  type Finding,
  isBucketScoped,
  type ListingRule,
  type PolicyView,
  type Rule,
  type RuleMetadata,
  type RuleOutcome,
  type RuleSettings,
  SEVERITIES,
  type Severity,
  type STATUSES,
  type Status,
} from './types.js';

/** A finding to accept for a while, with the reason and the date it stops applying. */
export interface Suppression {
  rule: string;
  /** Glob (`*`, `?`) over the bucket name or ARN. */
  resource: string;
  reason: string;
  /** `YYYY-MM-DD`; the suppression applies up to the end of that day (UTC). */
  expires: string;
}

/** What the config file contributes to evaluation. */
export interface EvaluationConfig {
  rules: Record<string, { enabled?: boolean; severity?: Severity }>;
  settings: RuleSettings;
  suppressions: Suppression[];
}

/** The configuration used when none is given. */
export const DEFAULT_EVALUATION_CONFIG: EvaluationConfig = {
  rules: {},
  settings: {
    allowedKmsKeyArns: [],
    allowedKeyAccounts: [],
    minTlsVersion: '1.2',
    uploadEncryption: 'use-bucket-default',
  },
  suppressions: [],
};

type StatusCounts = Record<Status, number>;

/** Counts of a scan's findings, for summary.json, the table and `--fail-on`. */
export interface EvaluationSummary {
  scanId: string;
  scanTime: string;
  accountId: string;
  buckets: number;
  findings: number;
  byStatus: StatusCounts;
  /** Unsuppressed FAIL findings by severity. */
  failedBySeverity: Record<Severity, number>;
  byRule: Record<string, StatusCounts>;
  byBucket: Record<string, StatusCounts>;
  /**
   * Findings by how much they saw (`complete`, `sample`, `inventory`, `none`), by status: a
   * PASS on a sample or an inventory is weaker than a PASS on every object.
   */
  byAssurance?: Record<string, StatusCounts>;
  /** Organisation-wide scans: findings per account, account findings included. */
  byAccount?: Record<string, StatusCounts>;
  /** Organisation-wide scans: every account, scanned, failed or skipped, and why. */
  accounts?: AccountEvidence[];
  suppressed: number;
  /** Configured suppressions past their date, once each, with how many buckets they matched. */
  expiredSuppressions: {
    rule: string;
    resource: string;
    reason: string;
    expires: string;
    buckets: number;
  }[];
  disabledRules: string[];
}

/** Findings and their summary. */
export interface EvaluationResult {
  findings: Finding[];
  summary: EvaluationSummary;
}

function emptyCounts(): StatusCounts {
  return { PASS: 0, FAIL: 0, ERROR: 0, SKIPPED: 0 } satisfies Record<
    (typeof STATUSES)[number],
    number
  >;
}

// A pure-JS SHA-256 (the engine has no Node built-ins): one hash per rule and per bucket.
const sha16 = (text: string) => bytesToHex(sha256(utf8ToBytes(text))).slice(0, 16);

/**
 * `sha256(ruleId)[0:16] ‖ sha256(ARN)[0:16]`: stable across scans, 128 bits, and the second half
 * groups a resource's findings. Hashing the two halves apart means one hash per rule and one per
 * bucket instead of one per finding, which matters at a million findings.
 */
export function fingerprint(ruleId: string, arn: string): string {
  return `${sha16(ruleId)}${sha16(arn)}`;
}

/** Verdicts that would hold for the organisation's own principals, by the SCP statements. */
type ScpAdditions = Partial<Record<keyof PolicyVerdicts, EnforcingStatement[]>>;

/** The verdicts an SCP can add for the organisation's own principals. */
const SCP_VERDICTS = [
  'tlsEnforced',
  'tlsMinVersion',
  'sseEnforced',
  'kmsKeyEnforced',
  'sseCBlocked',
] as const;

/**
 * The bucket policy judged with the RCPs of its account (their Deny statements deny every
 * principal), and what the SCPs would add for the organisation's own principals only: what
 * `BucketContext.policy()` answers.
 */
export function policyView(
  bucket: BucketEvidence,
  accountLayers: AccountPolicyLayers | undefined,
  policies: PolicyAnalysisCache = new PolicyAnalysisCache(),
): PolicyView {
  const layers = layerStatus(accountLayers, bucket);
  const probe = bucket.policy;
  if (!('ok' in probe) && !('absent' in probe))
    return { failed: probeFailure(probe) ?? 'unknown', layers };
  const rcps = layers.rcp.state === 'judged' ? accountDocuments(accountLayers).rcps : [];
  const options = { bucket: bucket.name, partition: bucket.partition, accountId: bucket.accountId };
  const own = 'ok' in probe ? probe.ok : undefined;
  const result = policies.analyze(own, { ...options, layers: rcps });
  if ('error' in result)
    return {
      failed:
        own === undefined || result.error.startsWith('RCP ')
          ? result.error
          : `the bucket policy could not be analysed: ${result.error}`,
      layers,
    };
  const { analysis } = result;
  const scpOnly = scpAdditions(analysis, own, options, rcps, accountLayers, layers, policies);
  const extra: { scpOnly?: NonNullable<typeof scpOnly> } = scpOnly ? { scpOnly } : {};
  if (own === undefined) {
    if (analysis.layerDenies === 0 && 'absent' in probe)
      return { absent: probe.absent, layers, ...extra };
    return { analysis, layers, bucketPolicy: 'absent', ...extra };
  }
  return { analysis, layers, ...extra };
}

/**
 * Uploads through one access point: the bucket policy and the RCPs (as for the bucket) plus the
 * access point's own policy, with the access point's keys fixed on every request.
 */
export function accessPointPolicyView(
  bucket: BucketEvidence,
  accessPoint: AccessPointEvidence,
  accountLayers: AccountPolicyLayers | undefined,
): PolicyView {
  const layers = layerStatus(accountLayers, bucket);
  const own = bucket.policy;
  if (!('ok' in own) && !('absent' in own))
    return { failed: `bucket policy: ${probeFailure(own) ?? 'unknown'}`, layers };
  const apPolicy = accessPoint.policy;
  if (!('ok' in apPolicy) && !('absent' in apPolicy))
    return {
      failed: `access point policy of ${accessPoint.name}: ${probeFailure(apPolicy) ?? 'unknown'}`,
      layers,
    };
  const rcps = layers.rcp.state === 'judged' ? accountDocuments(accountLayers).rcps : [];
  const result = analyzePolicySafely('ok' in own ? own.ok : undefined, {
    bucket: bucket.name,
    partition: bucket.partition,
    accountId: bucket.accountId,
    layers: [
      ...rcps,
      ...('ok' in apPolicy
        ? [
            {
              kind: 'access-point' as const,
              policyId: accessPoint.arn,
              policyName: accessPoint.name,
              attachedTo: bucket.arn,
              document: apPolicy.ok,
            },
          ]
        : []),
    ],
    uploadContext: {
      's3:DataAccessPointArn': accessPoint.arn,
      's3:DataAccessPointAccount': bucket.accountId,
      ...(accessPoint.networkOrigin
        ? { 's3:AccessPointNetworkOrigin': accessPoint.networkOrigin }
        : {}),
    },
  });
  if ('error' in result) return { failed: result.error, layers };
  return {
    analysis: result.analysis,
    layers,
    ...('absent' in own ? { bucketPolicy: 'absent' as const } : {}),
  };
}

/**
 * The verdicts that fail for every principal but would hold for the organisation's own with
 * its SCPs, named by the SCP statements that would make them hold; undefined when none.
 */
function scpAdditions(
  analysis: PolicyAnalysis,
  own: string | undefined,
  options: { bucket: string; partition: string; accountId: string },
  rcps: PolicyLayerDocument[],
  accountLayers: AccountPolicyLayers | undefined,
  layers: LayerStatus,
  policies: PolicyAnalysisCache,
): ScpAdditions | undefined {
  if (layers.scp.state !== 'judged') return undefined;
  const documents = accountDocuments(accountLayers);
  if (documents.scpDenies.length === 0) return undefined;
  // With the RCPs when they were judged; otherwise the SCPs alone.
  const layered = rcps.length > 0 ? documents.rcpsAndScpDenies : documents.scpDenies;
  const withScps = policies.analyze(own, { ...options, layers: layered });
  if ('error' in withScps) return undefined;
  const added: ScpAdditions = {};
  for (const verdict of SCP_VERDICTS) {
    const before = analysis[verdict];
    const after = withScps.analysis[verdict];
    const gained =
      verdict === 'tlsMinVersion'
        ? after !== null && (before === null || after > (before as string))
        : after === true && before !== true;
    if (!gained) continue;
    const statements = (withScps.analysis.enforcedBy[verdict] ?? []).filter(
      (s) => s.layer === 'scp',
    );
    if (statements.length > 0) added[verdict] = statements;
  }
  return Object.keys(added).length > 0 ? added : undefined;
}

function runRule(rule: Rule, context: BucketContext): RuleOutcome {
  try {
    return rule.evaluate(context);
  } catch (error) {
    // One broken rule must never sink the scan: it becomes an ERROR finding.
    return {
      status: 'ERROR',
      message: `Rule ${rule.id} failed on bucket ${context.bucket.name}: ${(error as Error).message ?? String(error)}.`,
    };
  }
}

function endOfDay(date: string): number {
  return Date.parse(`${date}T23:59:59.999Z`);
}

function matchSuppression(
  suppressions: Suppression[],
  ruleId: string,
  resource: { name: string; arn: string },
  scanTime: number,
): AppliedSuppression | undefined {
  if (suppressions.length === 0) return undefined;
  const matching = suppressions.filter(
    (s) =>
      s.rule === ruleId &&
      (globMatch(s.resource, resource.name, false) || globMatch(s.resource, resource.arn, false)),
  );
  if (matching.length === 0) return undefined;
  const active = matching.find((s) => scanTime <= endOfDay(s.expires));
  const chosen = active ?? matching[0]!;
  return {
    resource: chosen.resource,
    reason: chosen.reason,
    expires: chosen.expires,
    active: active !== undefined,
  };
}

function compareBuckets(a: BucketEvidence, b: BucketEvidence): number {
  return a.name < b.name
    ? -1
    : a.name > b.name
      ? 1
      : a.region < b.region
        ? -1
        : a.region > b.region
          ? 1
          : 0;
}

/**
 * Runs every enabled rule on every bucket of the evidence, then (organisation-wide scans)
 * every enabled account rule on every account. Pure: the same evidence, config and rules give
 * the same findings, byte for byte (buckets sorted by name, accounts by id, rules in the given
 * order). The engine knows no rule itself: callers pass the catalogue (`lib/rules`).
 *
 * @example
 * const { findings, summary } = evaluate(evidence, DEFAULT_EVALUATION_CONFIG, BUCKET_RULES);
 */
export function evaluate(
  evidence: ScanEvidence,
  config: EvaluationConfig,
  rules: readonly Rule[],
  accountRules: readonly AccountRule[] = [],
  listingRules: readonly ListingRule[] = [],
  accessPointRules: readonly AccessPointRule[] = [],
): EvaluationResult {
  const isEnabled = (r: RuleMetadata) => ruleEnabled(r, config);
  const run = new EvaluationRun(evidence, config);
  const bucketRules = rules.filter(isEnabled);
  const apRules = accessPointRules.filter(isEnabled);
  for (const bucket of [...evidence.buckets].sort(compareBuckets))
    run.bucket(bucket, bucketRules, apRules);
  run.accounts(accountRules.filter(isEnabled));
  run.listings(listingRules.filter(isEnabled));
  return {
    findings: run.findings,
    summary: summarize(evidence, run.findings, {
      expiredSuppressions: run.expiredSuppressions(),
      disabledRules: [
        ...rules,
        ...(evidence.accounts ? accountRules : []),
        ...(evidence.directoryListings ? listingRules : []),
      ]
        .filter((r) => !isEnabled(r))
        .map((r) => r.id),
    }),
  };
}

/** Where a finding's evidence is, its fingerprint and what the scan saw of it. */
interface FindingPlace {
  evidenceRef: string;
  fingerprint: string;
  assurance: Finding['assurance'];
}

/** The order of accounts and listings: by account, then region. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One evaluation: the findings in the order they are made (buckets in order, each with its
 * access points; then accounts; then directory bucket listings), and the suppressions that
 * matched but have expired.
 */
class EvaluationRun {
  public readonly findings: Finding[] = [];
  private readonly expired = new Map<string, EvaluationSummary['expiredSuppressions'][number]>();
  private readonly policies = new PolicyAnalysisCache();
  private readonly layersByAccount: Map<string, NonNullable<ScanEvidence['policyLayers']>[number]>;
  private readonly ruleHashes = new Map<string, string>();
  private readonly scanTime: number;

  public constructor(
    private readonly evidence: ScanEvidence,
    private readonly config: EvaluationConfig,
  ) {
    this.scanTime = Date.parse(evidence.scanTime);
    this.layersByAccount = new Map((evidence.policyLayers ?? []).map((l) => [l.accountId, l]));
  }

  private ruleHash(id: string): string {
    let hash = this.ruleHashes.get(id);
    if (hash === undefined) {
      hash = sha16(id);
      this.ruleHashes.set(id, hash);
    }
    return hash;
  }

  public expiredSuppressions(): EvaluationSummary['expiredSuppressions'] {
    return [...this.expired.values()];
  }

  /** A rule's outcome on a resource as a finding, with the suppression the config has for it. */
  private record(
    rule: RuleMetadata,
    resource: Finding['resource'],
    outcome: RuleOutcome,
    place: FindingPlace,
    suppressible: { name: string; arn: string } | undefined = resource,
  ): void {
    const suppression = suppressible
      ? matchSuppression(this.config.suppressions, rule.id, suppressible, this.scanTime)
      : undefined;
    if (suppression && !suppression.active) this.noteExpired(rule.id, suppression);
    // The place's fields one by one: a spread copy made findingOf five times slower (1.8 M
    // findings in the evaluate bench).
    this.findings.push(
      findingOf(rule, resource, outcome, this.config, {
        evidenceRef: place.evidenceRef,
        fingerprint: place.fingerprint,
        suppression,
        assurance: place.assurance,
      }),
    );
  }

  private noteExpired(ruleId: string, suppression: AppliedSuppression): void {
    // One entry per configured suppression, however many resources its pattern matches.
    const key = `${ruleId}\u0000${suppression.resource}\u0000${suppression.expires}`;
    const entry = this.expired.get(key);
    if (entry) entry.buckets += 1;
    else
      this.expired.set(key, {
        rule: ruleId,
        resource: suppression.resource,
        reason: suppression.reason,
        expires: suppression.expires,
        buckets: 1,
      });
  }

  /** The bucket's findings, then those of its access points. */
  public bucket(
    bucket: BucketEvidence,
    rules: readonly Rule[],
    accessPointRules: readonly AccessPointRule[],
  ): void {
    let analysed: PolicyView | undefined;
    // Shared by the bucket's findings: fewer objects for large accounts, same JSON.
    const resource: Finding['resource'] = {
      arn: bucket.arn,
      type: 'AWS::S3::Bucket',
      name: bucket.name,
      region: bucket.region,
      account: bucket.accountId,
    };
    const evidenceRef = bucketEvidencePath(bucket.accountId, bucket.region, bucket.name);
    const resourceHash = sha16(bucket.arn);
    const context: BucketContext = {
      bucket,
      kmsKeys: this.evidence.kmsKeys,
      scanTime: this.evidence.scanTime,
      settings: this.config.settings,
      policy: () => {
        analysed ??= policyView(bucket, this.layersByAccount.get(bucket.accountId), this.policies);
        return analysed;
      },
    };
    const directory = bucket.kind === 'directory';
    const objectsSeen = objectAssurance(bucket, this.scanTime);
    for (const rule of rules) {
      const notForDirectories =
        directory && rule.directoryBuckets !== 'applies'
          ? rule.directoryBuckets.skipped
          : undefined;
      const outcome: RuleOutcome = notForDirectories
        ? {
            status: 'SKIPPED',
            message: `Not judged for directory bucket ${bucket.name}: ${notForDirectories}.`,
            details: { bucketKind: 'directory' },
          }
        : runRule(rule, context);
      this.record(rule, resource, outcome, {
        evidenceRef,
        fingerprint: `${this.ruleHash(rule.id)}${resourceHash}`,
        assurance: rule.evidence.includes('objects')
          ? withBound(objectsSeen, outcome.status)
          : COMPLETE,
      });
    }
    this.accessPoints(bucket, resource, context.policy, accessPointRules);
  }

  /** Each access point of the bucket: its own findings, about the access point's ARN. */
  private accessPoints(
    bucket: BucketEvidence,
    bucketResource: Finding['resource'],
    bucketPolicy: () => PolicyView,
    rules: readonly AccessPointRule[],
  ): void {
    const evidenceRef = bucketEvidencePath(bucket.accountId, bucket.region, bucket.name);
    // A listing that was denied or failed hides every access point of the bucket: one ERROR
    // per rule, about the bucket (its access points have no ARN to name), never silence.
    const unlisted = bucket.accessPoints ? probeFailure(bucket.accessPoints) : undefined;
    if (unlisted)
      for (const rule of rules)
        this.record(
          rule,
          bucketResource,
          {
            status: 'ERROR',
            message: `Could not list the access points of bucket ${bucket.name}: ${unlisted}.`,
          },
          {
            evidenceRef,
            fingerprint: `${sha16(rule.id)}${sha16(bucket.arn)}`,
            assurance: { kind: 'none' },
          },
          // Not a judgement of the bucket: no suppression of the bucket hides it.
          undefined,
        );
    const accessPoints =
      bucket.accessPoints && 'ok' in bucket.accessPoints ? bucket.accessPoints.ok : [];
    for (const accessPoint of rules.length > 0 ? accessPoints : []) {
      let through: PolicyView | undefined;
      const context: AccessPointContext = {
        bucket,
        accessPoint,
        scanTime: this.evidence.scanTime,
        settings: this.config.settings,
        bucketPolicy,
        throughAccessPoint: () => {
          through ??= accessPointPolicyView(
            bucket,
            accessPoint,
            this.layersByAccount.get(bucket.accountId),
          );
          return through;
        },
      };
      const resource: Finding['resource'] = {
        arn: accessPoint.arn,
        type: 'AWS::S3::AccessPoint',
        // The bucket's name: its findings sit with the bucket's; the ARN tells them apart.
        name: bucket.name,
        region: bucket.region,
        account: bucket.accountId,
      };
      for (const rule of rules)
        this.record(
          rule,
          resource,
          guarded(
            () => rule.evaluate(context),
            `Rule ${rule.id} failed on access point ${accessPoint.arn}`,
          ),
          {
            evidenceRef,
            fingerprint: `${sha16(rule.id)}${sha16(accessPoint.arn)}`,
            assurance: COMPLETE,
          },
        );
    }
  }

  /** One finding of an account-level rule (an account, or one region's listing). */
  private accountLevel(
    rule: AccountRule | ListingRule,
    resource: Finding['resource'],
    judge: () => RuleOutcome,
  ): void {
    this.record(
      rule,
      resource,
      guarded(judge, `Rule ${rule.id} failed on account ${resource.account}`),
      {
        // Accounts and listings live in the scan's accounts file, beside the buckets' evidence.
        evidenceRef: ACCOUNTS_EVIDENCE_PATH,
        fingerprint: `${sha16(rule.id)}${sha16(resource.arn)}`,
        assurance: COMPLETE,
      },
    );
  }

  public accounts(rules: readonly AccountRule[]): void {
    const { evidence } = this;
    this.accountLevelEach(
      [...(evidence.accounts ?? [])].sort((a, b) => byText(a.accountId, b.accountId)),
      (account) => ({
        // The account's root principal: the ARN IAM and Security Hub use for an account.
        arn: `arn:${evidence.partition}:iam::${account.accountId}:root`,
        type: 'AWS::::Account',
        name: account.accountId,
        region: account.region,
        account: account.accountId,
      }),
      rules,
      (rule, account) =>
        rule.evaluate({ account, partition: evidence.partition, scanTime: evidence.scanTime }),
    );
  }

  public listings(rules: readonly ListingRule[]): void {
    const { evidence } = this;
    this.accountLevelEach(
      [...(evidence.directoryListings ?? [])].sort(
        (a, b) => byText(a.accountId, b.accountId) || byText(a.region, b.region),
      ),
      (listing) => ({
        // Every directory bucket of the account in the region: what the listing vouches for.
        arn: `arn:${evidence.partition}:s3express:${listing.region}:${listing.accountId}:bucket/*`,
        type: 'AWS::::Account',
        name: listing.accountId,
        region: listing.region,
        account: listing.accountId,
      }),
      rules,
      (rule, listing) =>
        rule.evaluate({ listing, partition: evidence.partition, scanTime: evidence.scanTime }),
    );
  }

  /** Each account-level rule on each item (an account, a listing), as its resource. */
  private accountLevelEach<T, R extends AccountRule | ListingRule>(
    items: readonly T[],
    resourceOf: (item: T) => Finding['resource'],
    rules: readonly R[],
    judge: (rule: R, item: T) => RuleOutcome,
  ): void {
    for (const item of items) {
      const resource = resourceOf(item);
      for (const rule of rules) this.accountLevel(rule, resource, () => judge(rule, item));
    }
  }
}

/** A rule's outcome, or ERROR saying `failure` and why when the rule throws. */
function guarded(judge: () => RuleOutcome, failure: string): RuleOutcome {
  try {
    return judge();
  } catch (error) {
    return {
      status: 'ERROR',
      message: `${failure}: ${(error as Error).message ?? String(error)}.`,
    };
  }
}

/** One finding of a rule's outcome on a resource, with its severity as the config sets it. */
function findingOf(
  rule: RuleMetadata,
  resource: Finding['resource'],
  outcome: RuleOutcome,
  config: EvaluationConfig,
  extra: {
    evidenceRef: string;
    fingerprint: string;
    suppression?: AppliedSuppression | undefined;
    assurance: Finding['assurance'];
  },
): Finding {
  return {
    ruleId: rule.id,
    title: rule.title,
    status: outcome.status,
    severity: config.rules[rule.id]?.severity ?? outcome.severity ?? rule.severity,
    resource,
    message: outcome.message,
    details: outcome.details ?? {},
    evidenceRef: extra.evidenceRef,
    fingerprint: extra.fingerprint,
    ...(extra.suppression ? { suppression: extra.suppression } : {}),
    ...(extra.assurance ? { assurance: extra.assurance } : {}),
  };
}

/**
 * Whether a rule runs: `rules.<id>.enabled` when the config sets it; otherwise on, unless the
 * rule belongs to the other upload-encryption stance than the config's.
 */
export function ruleEnabled(rule: RuleMetadata, config: EvaluationConfig): boolean {
  const set = config.rules[rule.id]?.enabled;
  if (set !== undefined) return set;
  return (
    rule.onlyWhenUploadEncryption === undefined ||
    rule.onlyWhenUploadEncryption === config.settings.uploadEncryption
  );
}

/** Counts findings by status, severity, rule and bucket. */
export function summarize(
  evidence: Pick<ScanEvidence, 'scanId' | 'scanTime' | 'accountId' | 'accounts'> & {
    buckets: readonly unknown[];
  },
  findings: Finding[],
  extra: Pick<EvaluationSummary, 'expiredSuppressions' | 'disabledRules'>,
): EvaluationSummary {
  const byStatus = emptyCounts();
  const failedBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<
    Severity,
    number
  >;
  const byRule: Record<string, StatusCounts> = {};
  const byBucket: Record<string, StatusCounts> = {};
  const byAccount: Record<string, StatusCounts> | undefined = evidence.accounts ? {} : undefined;
  let suppressed = 0;
  const byAssurance: Record<string, StatusCounts> = {};
  for (const finding of findings) {
    byStatus[finding.status] += 1;
    const seen = finding.assurance?.kind ?? 'complete';
    byAssurance[seen] ??= emptyCounts();
    byAssurance[seen]![finding.status] += 1;
    byRule[finding.ruleId] ??= emptyCounts();
    byRule[finding.ruleId]![finding.status] += 1;
    if (isBucketScoped(finding.resource)) {
      byBucket[finding.resource.name] ??= emptyCounts();
      byBucket[finding.resource.name]![finding.status] += 1;
    }
    if (byAccount) {
      byAccount[finding.resource.account] ??= emptyCounts();
      byAccount[finding.resource.account]![finding.status] += 1;
    }
    if (finding.suppression?.active) suppressed += 1;
    else if (finding.status === 'FAIL') failedBySeverity[finding.severity] += 1;
  }
  return {
    scanId: evidence.scanId,
    scanTime: evidence.scanTime,
    accountId: evidence.accountId,
    buckets: evidence.buckets.length,
    findings: findings.length,
    byStatus,
    failedBySeverity,
    byRule,
    byBucket,
    byAssurance,
    ...(byAccount ? { byAccount } : {}),
    ...(evidence.accounts ? { accounts: evidence.accounts } : {}),
    suppressed,
    ...extra,
  };
}

/**
 * True when an unsuppressed FAIL is at least as severe as `threshold` (for `--fail-on`). It
 * judges the findings themselves, not a summary's counts, so the gate follows what is printed.
 */
export function failsAt(findings: readonly Finding[], threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return findings.some(
    (f) => f.status === 'FAIL' && !f.suppression?.active && SEVERITIES.indexOf(f.severity) <= limit,
  );
}
