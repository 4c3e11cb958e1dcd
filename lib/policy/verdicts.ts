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
  const r0 = [uploads(sseContext())];
  const r1 = [uploads(sseContext('AES256'))];
  const r2 = [uploads(sseContext('aws:kms', otherKey))];
  const r2Dsse = [uploads(sseContext('aws:kms:dsse', otherKey))];
  const r2NoKey = [uploads(sseContext('aws:kms'))];
  const r2DsseNoKey = [uploads(sseContext('aws:kms:dsse'))];
  const r3 = pinned.flatMap((key) => [
    uploads(sseContext('aws:kms', key)),
    uploads(sseContext('aws:kms:dsse', key)),
  ]);
  const r4 = [uploads(sseContext(undefined, undefined, 'AES256'))];

  const mentionsSseOrKey = relevant.some((s) => referencesAny(s, [KEY_SSE, KEY_KMS_KEY_ID]));
  const mentionsKeyId = relevant.some((s) => referencesAny(s, [KEY_KMS_KEY_ID]));
  const mentionsSseC = relevant.some((s) => referencesAny(s, [KEY_SSE_C]));

  const noHeader = allDenied(sim, r0);
  let sseEnforced: boolean | null = null;
  if (noHeader.result === true) sseEnforced = true;
  else if (mentionsSseOrKey) sseEnforced = false;
  if (sseEnforced === false) {
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
  }

  const otherKeyDenied = allDenied(sim, [...r2, ...r2Dsse]);
  const pinnedAllowed = r3.length > 0 && someAllowed(sim, r3);
  let kmsKeyEnforced: boolean | null = null;
  if (noHeader.result === true && otherKeyDenied.result === true && pinnedAllowed) {
    kmsKeyEnforced = true;
  } else {
    const requiresKms =
      noHeader.result === true &&
      allDenied(sim, r1).result === true &&
      (someAllowed(sim, [...r2, ...r2Dsse, ...r2NoKey, ...r2DsseNoKey]) || pinnedAllowed);
    if (requiresKms || mentionsKeyId) kmsKeyEnforced = false;
  }
  if (kmsKeyEnforced === false) {
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
        open.length > 0 ? open : r3.flatMap((set) => set.requests),
        relevant,
        pinned.length === 0
          ? 'the policy requires SSE-KMS but names no key ARN in s3:x-amz-server-side-encryption-aws-kms-key-id, so any KMS key is accepted'
          : 'uploads under the pinned key are denied as well, so the pin cannot be satisfied',
      ),
    );
  }

  let sseCBlocked: boolean | null = null;
  if (mentionsSseC) {
    const sseC = allDenied(sim, r4);
    sseCBlocked = sseC.result === true;
    if (!sseCBlocked) {
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
    }
  }
  const sseCRejectedAsSideEffect =
    !mentionsSseC && sseEnforced === true && allDenied(sim, r4).result === true;
  if (sseCRejectedAsSideEffect) {
    notes.push(
      'SSE-C uploads are rejected as a side effect of requiring the x-amz-server-side-encryption header; sseCBlocked stays null because no statement tests the SSE-C header',
    );
  }
  return { sseEnforced, kmsKeyEnforced, sseCBlocked, pinned, sseCRejectedAsSideEffect };
}

/** Condition keys as the simulation matches them: lower case. */
function lowerKeys(context: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
}
