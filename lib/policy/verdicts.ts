import type { AnalyzeOptions, PolicyGap, PolicyVerdicts } from './analysis-types.js';
import { buildGap, type VerdictProbe } from './gaps.js';
import type { ParsedPolicy } from './parse.js';
import { PROBE_ACTIONS, type ProbeAction } from './requests.js';
import {
  ACCESS_POINT_KEYS,
  allDenied,
  buildRequests,
  KEY_KMS_KEY_ID,
  KEY_SECURE_TRANSPORT,
  KEY_SSE,
  KEY_SSE_C,
  KEY_TLS_VERSION,
  type ProbeRequest,
  referencesAny,
  SSE_KEYS,
  simulationFor,
  someAllowed,
  TLS_VERSIONS,
} from './simulation.js';

// The per-verdict logic of aws-facts.md section 3.3: which requests each verdict needs denied,
// simulated with simulation.ts and explained with gaps.ts.

/** `tlsEnforced`: every request without TLS is denied, for every principal, action and resource. */
export function analyzeTls(
  policy: ParsedPolicy,
  options: AnalyzeOptions,
  gaps: PolicyGap[],
): boolean {
  // Also the Denies of requests not made through an access point: a plain HTTP request never
  // carries the access point keys (access points are HTTPS only), so they deny it.
  const relevant = policy.statements.filter(
    (s) =>
      referencesAny(s, [KEY_SECURE_TRANSPORT]) ||
      (s.effect === 'Deny' && referencesAny(s, ACCESS_POINT_KEYS)),
  );
  const sim = simulationFor(policy, options, relevant, [
    KEY_SECURE_TRANSPORT,
    KEY_TLS_VERSION,
    ...ACCESS_POINT_KEYS,
  ]);
  const probe: VerdictProbe = {
    verdict: 'tlsEnforced',
    keys: [KEY_SECURE_TRANSPORT],
    requestWords: 'over plain HTTP',
    actions: PROBE_ACTIONS,
    // Plain HTTP: SecureTransport is false and no TLS version exists.
    context: { [KEY_SECURE_TRANSPORT]: 'false' },
  };
  const { result, open } = allDenied(sim, [buildRequests(sim, probe.actions, probe.context)]);
  if (result === true) return true;
  const tlsVersionDeny = policy.statements.find(
    (s) => s.effect === 'Deny' && referencesAny(s, [KEY_TLS_VERSION]),
  );
  const fallback = tlsVersionDeny
    ? `no Deny tests aws:SecureTransport. ${tlsVersionDeny.label} denies old TLS versions; an AWS Knowledge Center article says that also blocks plain HTTP, but by IAM's absent-key rule it does not, so s3scan reports TLS as not enforced: verify on the bucket or add the aws:SecureTransport deny`
    : 'no Deny statement tests aws:SecureTransport, so requests over plain HTTP are not denied';
  const candidates = relevant.length > 0 ? relevant : [];
  gaps.push(buildGap(sim, probe, open, candidates, fallback));
  return false;
}

/** `tlsMinVersion`: the lowest TLS version every request must use, or null when none is enforced. */
export function analyzeTlsMinVersion(
  policy: ParsedPolicy,
  options: AnalyzeOptions,
  gaps: PolicyGap[],
): string | null {
  const relevant = policy.statements.filter((s) => referencesAny(s, [KEY_TLS_VERSION]));
  if (relevant.length === 0) return null;
  const sim = simulationFor(policy, options, relevant, [KEY_SECURE_TRANSPORT, KEY_TLS_VERSION]);
  let minimum: string | null = null;
  let firstOpen: ProbeRequest[] = [];
  for (const version of TLS_VERSIONS) {
    const requests = buildRequests(sim, PROBE_ACTIONS, {
      [KEY_SECURE_TRANSPORT]: 'true',
      [KEY_TLS_VERSION]: version,
    });
    const { result, open } = allDenied(sim, [requests]);
    if (result !== true) {
      minimum = version === TLS_VERSIONS[0] ? null : version;
      firstOpen = open;
      break;
    }
  }
  if (minimum === null) {
    const probe: VerdictProbe = {
      verdict: 'tlsMinVersion',
      keys: [KEY_TLS_VERSION],
      requestWords: 'over TLS 1.0',
      actions: PROBE_ACTIONS,
      context: {},
    };
    gaps.push(
      buildGap(
        sim,
        probe,
        firstOpen,
        relevant,
        'every TLS version is denied, so the policy blocks all HTTPS access',
      ),
    );
  }
  return minimum;
}

function sseContext(
  sse?: string,
  keyId?: string,
  customerAlgorithm?: string,
): Record<string, string> {
  return {
    ...(sse ? { [KEY_SSE]: sse } : {}),
    ...(keyId ? { [KEY_KMS_KEY_ID]: keyId } : {}),
    ...(customerAlgorithm ? { [KEY_SSE_C]: customerAlgorithm } : {}),
  };
}

const PUT_OBJECT: readonly ProbeAction[] = [{ name: 's3:PutObject', on: 'object' }];

function pinnedKeys(policy: ParsedPolicy): string[] {
  const keys = new Set<string>();
  for (const statement of policy.statements) {
    for (const clause of statement.conditions) {
      if (clause.keyLower !== KEY_KMS_KEY_ID) continue;
      for (const value of clause.values) {
        if (/^arn:[^:]+:kms:[^:]*:\d{12}:key\/.+/.test(value) && !value.includes('*')) {
          keys.add(value);
        }
      }
    }
  }
  return [...keys];
}

/** The uploads the SSE verdicts simulate, and what the policy's statements test. */
interface SseProbes {
  sim: ReturnType<typeof simulationFor>;
  relevant: ParsedPolicy['statements'];
  pinned: string[];
  /** No encryption header. */
  noHeader: ReturnType<typeof allDenied>;
  /** SSE-S3 (AES256). */
  r1: ReturnType<typeof buildRequests>[];
  /** SSE-KMS and DSSE-KMS under another key, and with no key named. */
  otherKey: ReturnType<typeof buildRequests>[];
  noKey: ReturnType<typeof buildRequests>[];
  /** SSE-KMS and DSSE-KMS under each pinned key. */
  pinnedUploads: ReturnType<typeof buildRequests>[];
  /** SSE-C. */
  sseC: ReturnType<typeof buildRequests>[];
}

/** `sseEnforced`, `kmsKeyEnforced` and `sseCBlocked`, with the pinned key ARNs, from PutObject simulations. */
export function analyzeSse(
  policy: ParsedPolicy,
  options: AnalyzeOptions,
  gaps: PolicyGap[],
  notes: string[],
): Pick<PolicyVerdicts, 'sseEnforced' | 'kmsKeyEnforced' | 'sseCBlocked'> & {
  pinned: string[];
  sseCRejectedAsSideEffect: boolean;
} {
  const probes = sseProbes(policy, options);
  const sseEnforced = sseVerdict(probes, gaps);
  const kmsKeyEnforced = kmsKeyVerdict(probes, gaps);
  const mentionsSseC = probes.relevant.some((s) => referencesAny(s, [KEY_SSE_C]));
  const sseCBlocked = mentionsSseC ? sseCVerdict(probes, gaps) : null;
  const sseCRejectedAsSideEffect =
    !mentionsSseC && sseEnforced === true && allDenied(probes.sim, probes.sseC).result === true;
  if (sseCRejectedAsSideEffect) {
    notes.push(
      'SSE-C uploads are rejected as a side effect of requiring the x-amz-server-side-encryption header; sseCBlocked stays null because no statement tests the SSE-C header',
    );
  }
  return {
    sseEnforced,
    kmsKeyEnforced,
    sseCBlocked,
    pinned: probes.pinned,
    sseCRejectedAsSideEffect,
  };
}

function sseProbes(policy: ParsedPolicy, options: AnalyzeOptions): SseProbes {
  const relevant = policy.statements.filter((s) => referencesAny(s, SSE_KEYS));
  const pinned = pinnedKeys(policy);
  const fixed = options.uploadContext ?? {};
  const sim = simulationFor(policy, options, relevant, [
    ...SSE_KEYS,
    ...Object.keys(fixed).map((k) => k.toLowerCase()),
  ]);
  const otherKey = `arn:${sim.partition}:kms:us-east-1:999999999999:key/00000000-0000-4000-8000-000000000000`;
  const uploads = (context: Record<string, string>) =>
    buildRequests(sim, PUT_OBJECT, { ...lowerKeys(fixed), ...context });
  return {
    sim,
    relevant,
    pinned,
    noHeader: allDenied(sim, [uploads(sseContext())]),
    r1: [uploads(sseContext('AES256'))],
    otherKey: [
      uploads(sseContext('aws:kms', otherKey)),
      uploads(sseContext('aws:kms:dsse', otherKey)),
    ],
    noKey: [uploads(sseContext('aws:kms')), uploads(sseContext('aws:kms:dsse'))],
    pinnedUploads: pinned.flatMap((key) => [
      uploads(sseContext('aws:kms', key)),
      uploads(sseContext('aws:kms:dsse', key)),
    ]),
    sseC: [uploads(sseContext(undefined, undefined, 'AES256'))],
  };
}

/** Uploads without an encryption header are all denied: `sseEnforced`. */
function sseVerdict(probes: SseProbes, gaps: PolicyGap[]): boolean | null {
  const { sim, relevant, noHeader } = probes;
  const mentionsSseOrKey = relevant.some((s) => referencesAny(s, [KEY_SSE, KEY_KMS_KEY_ID]));
  if (noHeader.result === true) return true;
  if (!mentionsSseOrKey) return null;
  gaps.push(
    buildGap(
      sim,
      {
        verdict: 'sseEnforced',
        keys: SSE_KEYS,
        requestWords: 'without an encryption header',
        actions: PUT_OBJECT,
        context: {},
        hint: 'it does not reject uploads that carry no server-side-encryption header',
      },
      noHeader.open,
      relevant,
      'no Deny rejects uploads that carry no server-side-encryption header',
    ),
  );
  return false;
}

/** Uploads under another KMS key are denied and under a pinned one allowed: `kmsKeyEnforced`. */
function kmsKeyVerdict(probes: SseProbes, gaps: PolicyGap[]): boolean | null {
  const { sim, relevant, pinned, noHeader, pinnedUploads } = probes;
  const mentionsKeyId = relevant.some((s) => referencesAny(s, [KEY_KMS_KEY_ID]));
  const otherKeyDenied = allDenied(sim, probes.otherKey);
  const pinnedAllowed = pinnedUploads.length > 0 && someAllowed(sim, pinnedUploads);
  if (noHeader.result === true && otherKeyDenied.result === true && pinnedAllowed) return true;
  const requiresKms =
    noHeader.result === true &&
    allDenied(sim, probes.r1).result === true &&
    (someAllowed(sim, [...probes.otherKey, ...probes.noKey]) || pinnedAllowed);
  if (!requiresKms && !mentionsKeyId) return null;
  const open = otherKeyDenied.result !== true ? otherKeyDenied.open : noHeader.open;
  gaps.push(
    buildGap(
      sim,
      {
        verdict: 'kmsKeyEnforced',
        keys: SSE_KEYS,
        requestWords: 'naming another KMS key',
        actions: PUT_OBJECT,
        context: {},
        hint:
          pinned.length === 0
            ? 'it requires KMS encryption but names no KMS key ARN, so uploads under any KMS key pass'
            : 'it does not reject uploads that name another KMS key',
      },
      open.length > 0 ? open : pinnedUploads.flatMap((set) => set.requests),
      relevant,
      pinned.length === 0
        ? 'the policy requires SSE-KMS but names no key ARN in s3:x-amz-server-side-encryption-aws-kms-key-id, so any KMS key is accepted'
        : 'uploads under the pinned key are denied as well, so the pin cannot be satisfied',
    ),
  );
  return false;
}

/** Uploads with SSE-C are all denied: `sseCBlocked` (asked only when a statement tests SSE-C). */
function sseCVerdict(probes: SseProbes, gaps: PolicyGap[]): boolean {
  const { sim, relevant } = probes;
  const sseC = allDenied(sim, probes.sseC);
  if (sseC.result === true) return true;
  gaps.push(
    buildGap(
      sim,
      {
        verdict: 'sseCBlocked',
        keys: SSE_KEYS,
        requestWords: 'with SSE-C',
        actions: PUT_OBJECT,
        context: {},
        hint: 'it does not reject uploads that carry the SSE-C header x-amz-server-side-encryption-customer-algorithm',
      },
      sseC.open,
      relevant,
      'no Deny rejects uploads that use SSE-C',
    ),
  );
  return false;
}

/** Condition keys as the simulation matches them: lower case. */
function lowerKeys(context: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
}
