import { compileGlob } from '../text/glob.js';
import {
  evaluateConditions,
  type RequestContext,
  type Tri,
  unsupportedReason,
} from './conditions.js';
import { denyingStatements } from './decide.js';
import { actionMatches, principalMatches, resourceMatches } from './match.js';
import { type ParsedPolicy, type PolicyStatement, parsePolicy } from './parse.js';
import {
  exemptedPrincipal,
  PROBE_ACTIONS,
  PROBE_OBJECT_KEYS,
  type ProbeAction,
  type ProbePrincipal,
  probePrincipals,
} from './requests.js';

/** The five verdicts of aws-facts.md section 3.3. */
export interface PolicyVerdicts {
  tlsEnforced: boolean;
  tlsMinVersion: string | null;
  sseEnforced: boolean | null;
  kmsKeyEnforced: boolean | null;
  sseCBlocked: boolean | null;
}

/** Why a verdict is not satisfied: what stays allowed, and the statement that came closest. */
export interface PolicyGap {
  verdict: keyof PolicyVerdicts;
  principals: string[];
  actions: string[];
  resources: string[];
  closestStatement: string | null;
  reason: string;
}

/** The analyzer's answer for one bucket policy. */
export interface PolicyAnalysis extends PolicyVerdicts {
  gaps: PolicyGap[];
  /** KMS key ARNs that the policy names in `s3:x-amz-server-side-encryption-aws-kms-key-id`. */
  pinnedKmsKeyArns: string[];
  /**
   * When uploads without an encryption header are denied (`sseEnforced`): the statements that
   * deny them, by label. Bucket policies are evaluated before default encryption, so these
   * turn away writers that rely on the default.
   */
  headerlessUploadDenials: string[];
  /**
   * SSE-C uploads are rejected, though no statement tests the SSE-C header: a side effect of
   * requiring `x-amz-server-side-encryption`, which SSE-C requests do not carry.
   */
  sseCRejectedAsSideEffect: boolean;
  /** Remarks that are not gaps, e.g. side effects worth knowing. */
  notes: string[];
}

/** Where the policy is attached. */
export interface AnalyzeOptions {
  bucket: string;
  /** `aws`, `aws-cn`, `aws-us-gov`; inferred from the policy's resources when omitted. */
  partition?: string;
  /** The bucket owner's account; decides which principals count as "same account". */
  accountId?: string;
}

const KEY_SECURE_TRANSPORT = 'aws:securetransport';
const KEY_TLS_VERSION = 's3:tlsversion';
const KEY_SSE = 's3:x-amz-server-side-encryption';
const KEY_KMS_KEY_ID = 's3:x-amz-server-side-encryption-aws-kms-key-id';
const KEY_SSE_C = 's3:x-amz-server-side-encryption-customer-algorithm';
const SSE_KEYS = [KEY_SSE, KEY_KMS_KEY_ID, KEY_SSE_C];
const TLS_VERSIONS = ['1.0', '1.1', '1.2', '1.3'];
/** Above this many combinations of other condition keys, s3scan stops and stays conservative. */
const MAX_CONTEXTS = 512;
const UNLISTED_VALUE = 'zz-s3scan-unlisted-value';
const ACTION_COUNT = PROBE_ACTIONS.length;
const ACTION_INDEX = new Map(PROBE_ACTIONS.map((a, i) => [a.name, i]));

/** One (principal, action, resource) a request can target; built once per simulation. */
interface ProbeRequest {
  principal: ProbePrincipal;
  principalIndex: number;
  action: ProbeAction;
  actionIndex: number;
  resource: string;
  resourceIndex: number;
  /** Position in the apply matrices. */
  index: number;
}

/** Requests that share one context: the values of the keys the verdict fixes. */
interface RequestSet {
  requests: ProbeRequest[];
  /** A key listed in the simulation's `fixedKeys` but missing here is absent from the request. */
  context: Map<string, string[]>;
  /** Answers of {@link deniedEverywhere} for this context, by group of applicable statements. */
  memo: Map<number, Tri>;
}

interface Simulation {
  statements: PolicyStatement[];
  /** Answers by context key, then by group of applicable statements: most requests share them. */
  memo: Map<string, Map<number, Tri>>;
  applies: Map<PolicyStatement, Uint8Array>;
  /** For each request index, the group of live Deny statements that apply to it (-1: not yet known). */
  groupOf: Int32Array;
  groups: PolicyStatement[][];
  groupIds: Map<string, number>;
  /** Request objects by the actions they were built for. */
  requestCache: Map<readonly ProbeAction[], ProbeRequest[]>;
  live?: PolicyStatement[];
  /** The bucket ARN first, then the probe object ARNs. */
  resources: string[];
  principals: ProbePrincipal[];
  bucketArn: string;
  objectArns: string[];
  /**
   * For each object probe, the policy pattern it was drawn from (so a gap can name the part
   * of the bucket that stays open); undefined for the fixed probes, which stand for `bucket/*`.
   */
  objectSources: (string | undefined)[];
  partition: string;
  fixedKeys: Set<string>;
}

function referencesAny(statement: PolicyStatement, keys: readonly string[]): boolean {
  return statement.conditions.some((c) => keys.includes(c.keyLower));
}

/** The Deny statements that apply to at least one probe request; the rest cannot deny anything. */
function liveDenies(sim: Simulation): PolicyStatement[] {
  sim.live ??= sim.statements.filter((s) => s.effect === 'Deny' && applyMatrix(sim, s).includes(1));
  return sim.live;
}

/** Which probe requests a statement applies to (principal × action × resource), computed once. */
function applyMatrix(sim: Simulation, statement: PolicyStatement): Uint8Array {
  let matrix = sim.applies.get(statement);
  if (!matrix) {
    const principals = sim.principals.map((p) => principalMatches(statement, p));
    const actions = PROBE_ACTIONS.map((a) => actionMatches(statement, a.name));
    const resources = sim.resources.map((r) => resourceMatches(statement, r));
    matrix = new Uint8Array(principals.length * ACTION_COUNT * resources.length);
    principals.forEach((p, pi) => {
      actions.forEach((a, ai) => {
        resources.forEach((r, ri) => {
          matrix![(pi * ACTION_COUNT + ai) * resources.length + ri] = p && a && r ? 1 : 0;
        });
      });
    });
    sim.applies.set(statement, matrix);
  }
  return matrix;
}

function statementApplies(
  sim: Simulation,
  statement: PolicyStatement,
  request: ProbeRequest,
): boolean {
  return applyMatrix(sim, statement)[request.index] === 1;
}

function candidateValues(statements: PolicyStatement[], key: string): (string | undefined)[] {
  const values = new Set<string | undefined>([undefined, UNLISTED_VALUE]);
  for (const statement of statements) {
    for (const clause of statement.conditions) {
      if (clause.keyLower !== key) continue;
      for (const value of clause.values) {
        values.add(clause.base.includes('ipaddress') ? (value.split('/')[0] ?? value) : value);
      }
      if (clause.base === 'bool') {
        values.add('true');
        values.add('false');
      }
    }
  }
  return [...values];
}

function groupOf(sim: Simulation, request: ProbeRequest): number {
  let group = sim.groupOf[request.index] ?? -1;
  if (group < 0) {
    const statements = liveDenies(sim).filter((s) => statementApplies(sim, s, request));
    const key = statements.map((s) => s.index).join(',');
    group = sim.groupIds.get(key) ?? -1;
    if (group < 0) {
      group = sim.groups.length;
      sim.groups.push(statements);
      sim.groupIds.set(key, group);
    }
    sim.groupOf[request.index] = group;
  }
  return group;
}

/**
 * Is the request explicitly denied in every context? Keys the verdict does not fix take every
 * value that could make a Deny miss (absent, each value the policy names, one it does not),
 * because IAM denies only when a condition holds, and an attacker picks the request.
 */
function deniedEverywhere(sim: Simulation, request: ProbeRequest, set: RequestSet): Tri {
  const group = groupOf(sim, request);
  let answer = set.memo.get(group);
  if (answer === undefined) {
    const statements = sim.groups[group] ?? [];
    answer = statements.length === 0 ? false : decideAcrossContexts(sim, statements, set.context);
    set.memo.set(group, answer);
  }
  return answer;
}

function decideAcrossContexts(
  sim: Simulation,
  applicable: PolicyStatement[],
  fixedContext: Map<string, string[]>,
): Tri {
  const otherKeys = [
    ...new Set(applicable.flatMap((s) => s.conditions.map((c) => c.keyLower))),
  ].filter((k) => !sim.fixedKeys.has(k));
  const choices = otherKeys.map((k) => candidateValues(applicable, k));
  const total = choices.reduce((n, c) => n * c.length, 1);
  if (total > MAX_CONTEXTS) return 'unknown';
  let result: Tri = true;
  const context = new Map(fixedContext);
  for (let combo = 0; combo < total; combo++) {
    let rest = combo;
    otherKeys.forEach((key, i) => {
      const options = choices[i] ?? [undefined];
      const value = options[rest % options.length];
      rest = Math.floor(rest / options.length);
      if (value === undefined) context.delete(key);
      else context.set(key, [value]);
    });
    let denied: Tri = false;
    for (const statement of applicable) {
      const value = evaluateConditions(statement.conditions, context as RequestContext);
      if (value === true) {
        denied = true;
        break;
      }
      if (value === 'unknown') denied = 'unknown';
    }
    if (denied === false) return false;
    if (denied === 'unknown') result = 'unknown';
  }
  return result;
}

/** The requests of every principal for the given actions, on their resources. */
function requestsFor(sim: Simulation, actions: readonly ProbeAction[]): ProbeRequest[] {
  let requests = sim.requestCache.get(actions);
  if (!requests) {
    requests = [];
    for (const [principalIndex, principal] of sim.principals.entries()) {
      for (const action of actions) {
        const actionIndex = ACTION_INDEX.get(action.name) ?? -1;
        const resourceIndexes = action.on === 'bucket' ? [0] : sim.objectArns.map((_, i) => i + 1);
        for (const resourceIndex of resourceIndexes) {
          requests.push({
            principal,
            principalIndex,
            action,
            actionIndex,
            resource: sim.resources[resourceIndex] ?? '',
            resourceIndex,
            index:
              (principalIndex * ACTION_COUNT + actionIndex) * sim.resources.length + resourceIndex,
          });
        }
      }
    }
    sim.requestCache.set(actions, requests);
  }
  return requests;
}

/** The requests for these actions, all carrying one context. */
function buildRequests(
  sim: Simulation,
  actions: readonly ProbeAction[],
  context: Record<string, string>,
): RequestSet {
  const contextKey = JSON.stringify(context);
  let memo = sim.memo.get(contextKey);
  if (!memo) {
    memo = new Map();
    sim.memo.set(contextKey, memo);
  }
  return {
    requests: requestsFor(sim, actions),
    context: new Map(Object.entries(context).map(([k, v]) => [k, [v]])),
    memo,
  };
}

/** Combined answer over request sets: true only if every request is denied. */
function allDenied(sim: Simulation, sets: RequestSet[]): { result: Tri; open: ProbeRequest[] } {
  let result: Tri = true;
  const open: ProbeRequest[] = [];
  for (const set of sets) {
    for (const request of set.requests) {
      const denied = deniedEverywhere(sim, request, set);
      if (denied !== true) open.push(request);
      if (denied === false) result = false;
      else if (denied === 'unknown' && result === true) result = 'unknown';
    }
  }
  return { result, open };
}

/** At least one principal can make one of the requests in some context. */
function someAllowed(sim: Simulation, sets: RequestSet[]): boolean {
  return sets.some((set) => set.requests.some((r) => deniedEverywhere(sim, r, set) === false));
}

function listSome(items: Iterable<string>, max = 6): string[] {
  const unique = [...new Set(items)];
  return unique.length <= max
    ? unique
    : [...unique.slice(0, max), `…and ${unique.length - max} more`];
}

interface VerdictProbe {
  verdict: keyof PolicyVerdicts;
  /** The keys this verdict is about; other keys in a statement narrow it. */
  keys: string[];
  /** What the requests look like, in words, for the gap message. */
  requestWords: string;
  actions: readonly ProbeAction[];
  context: Record<string, string>;
  /** Said of the closest statement when nothing more specific explains the shortfall. */
  hint?: string;
}

/** Why one statement does not deny all of the requests. */
function explainShortfall(
  sim: Simulation,
  statement: PolicyStatement,
  probe: VerdictProbe,
): string {
  const reasons: string[] = [];
  if (statement.effect === 'Allow') {
    reasons.push(
      'it is an Allow, and an Allow never enforces anything: only an explicit Deny does',
    );
  }
  const spec = statement.principal;
  if (spec.negated) {
    reasons.push(
      `NotPrincipal exempts ${listSome([...spec.aws, ...spec.other]).join(', ')} from the deny`,
    );
  } else if (!spec.any) {
    reasons.push(
      `its Principal names only ${listSome([...spec.aws, ...spec.other]).join(', ')}, so anonymous and other principals are not covered`,
    );
  }
  const uncoveredActions = probe.actions.filter((a) => !actionMatches(statement, a.name));
  if (uncoveredActions.length > 0) {
    const visible = uncoveredActions.filter((a) => !a.name.includes('S3scanFuture'));
    const onlyFuture = visible.length === 0;
    reasons.push(
      statement.actions.negated
        ? `NotAction leaves ${listSome(visible.map((a) => a.name)).join(', ')} out of the deny`
        : onlyFuture
          ? 'its Action lists actions one by one instead of s3:*, so actions AWS adds later are not covered'
          : `its Action does not cover ${listSome(
              visible.map((a) => a.name),
              4,
            ).join(', ')}`,
    );
  }
  const coversBucket = resourceMatches(statement, sim.bucketArn);
  const objectHits = sim.objectArns.map((arn) => resourceMatches(statement, arn));
  const coversObjects = objectHits.every(Boolean);
  const coversSomeObjects = objectHits.some(Boolean);
  const needsBucket = probe.actions.some((a) => a.on === 'bucket');
  const needsObjects = probe.actions.some((a) => a.on === 'object');
  if (needsBucket && coversObjects && !coversBucket) {
    reasons.push(
      `objects only: its Resource lacks ${sim.bucketArn}, so bucket-level actions such as s3:ListBucket stay allowed ${probe.requestWords}`,
    );
  } else if (needsObjects && coversBucket && !coversSomeObjects) {
    reasons.push(
      `bucket ARN only: its Resource lacks ${sim.bucketArn}/*, so object actions such as s3:GetObject stay allowed ${probe.requestWords}`,
    );
  } else if (!coversBucket && !coversSomeObjects) {
    reasons.push(`its Resource does not cover ${sim.bucketArn} or ${sim.bucketArn}/*`);
  } else if (needsObjects && !coversObjects) {
    const left = sim.objectArns
      .map((arn, i) => ({ arn, source: sim.objectSources[i] }))
      .filter((_, i) => !objectHits[i])
      .map(({ arn, source }) => source ?? arn);
    reasons.push(
      statement.resources.negated
        ? `its NotResource carves ${listSome([...new Set(left)]).join(', ')} out of the deny`
        : `its Resource covers only some objects of ${sim.bucketArn}: not ${listSome([...new Set(left)]).join(', ')}`,
    );
  }
  for (const clause of statement.conditions) {
    const unsupported = unsupportedReason(clause);
    if (unsupported) {
      reasons.push(`${unsupported}, so s3scan treats the verdict as not enforced`);
      continue;
    }
    if (!probe.keys.includes(clause.keyLower)) {
      reasons.push(
        clause.keyLower === KEY_TLS_VERSION && probe.verdict === 'tlsEnforced'
          ? `its ${clause.operator} ${clause.key} condition is AND-ed with aws:SecureTransport; plain HTTP requests carry no TLS version, so the deny never fires for them`
          : clause.keyLower === KEY_SECURE_TRANSPORT && probe.verdict === 'tlsMinVersion'
            ? `its ${clause.operator} ${clause.key} condition is AND-ed with the TLS version test, which narrows the deny`
            : `the ${clause.key} condition narrows the deny: requests that do not meet it are not denied`,
      );
    }
  }
  reasons.push(...verdictSpecificReasons(statement, probe));
  if (reasons.length === 0) {
    reasons.push(probe.hint ?? `its conditions do not deny requests ${probe.requestWords}`);
  }
  return `${statement.label} falls short: ${reasons.join('; ')}`;
}

function verdictSpecificReasons(statement: PolicyStatement, probe: VerdictProbe): string[] {
  const reasons: string[] = [];
  for (const clause of statement.conditions) {
    if (unsupportedReason(clause)) continue;
    const values = clause.values.map((v) => v.toLowerCase());
    if (probe.verdict === 'tlsEnforced' && clause.keyLower === KEY_SECURE_TRANSPORT) {
      if (clause.base === 'bool' && !values.includes('false')) {
        reasons.push(
          `${clause.operator} ${clause.key} = ${clause.values.join(',')} on a Deny blocks HTTPS, not HTTP: the condition is inverted`,
        );
      }
      if (clause.base === 'null') {
        reasons.push(
          `Null ${clause.key} never matches as intended: the key is present in every request`,
        );
      }
    }
    if (probe.verdict === 'sseEnforced' && clause.keyLower === KEY_SSE) {
      const negated = clause.base.includes('not');
      if (!negated && !clause.ifExists && clause.base !== 'null') {
        reasons.push(
          `${clause.operator} on ${clause.key} is false when the header is missing, so uploads without any encryption header pass`,
        );
      }
    }
  }
  if (
    probe.verdict === 'kmsKeyEnforced' &&
    statement.conditions.some((c) => c.keyLower === KEY_KMS_KEY_ID) &&
    statement.conditions.some((c) => c.keyLower !== KEY_KMS_KEY_ID)
  ) {
    reasons.push(
      'the key-id test shares its statement with other conditions, and conditions in one statement are AND-ed, so an upload naming another key passes when any of them is false',
    );
  }
  return reasons;
}

function buildGap(
  sim: Simulation,
  probe: VerdictProbe,
  open: ProbeRequest[],
  candidates: PolicyStatement[],
  fallbackReason: string,
): PolicyGap {
  const closest = pickClosest(sim, open, candidates);
  const principalSeen = new Uint8Array(sim.principals.length);
  const actionSeen = new Uint8Array(ACTION_COUNT);
  let bucketOpen = false;
  let anyObjectOpen = false;
  const openPatterns = new Set<string>();
  for (const request of open) {
    principalSeen[request.principalIndex] = 1;
    actionSeen[request.actionIndex] = 1;
    if (request.resourceIndex === 0) {
      bucketOpen = true;
      continue;
    }
    const source = sim.objectSources[request.resourceIndex - 1];
    if (source) openPatterns.add(source);
    else anyObjectOpen = true;
  }
  const principals = sim.principals.filter((_, i) => principalSeen[i]).map((p) => p.label);
  const actions = PROBE_ACTIONS.filter(
    (a, i) => actionSeen[i] && !a.name.includes('S3scanFuture'),
  ).map((a) => a.name);
  return {
    verdict: probe.verdict,
    principals: listSome(principals),
    actions: listSome(actions, 8),
    // Objects in general, or only the parts of the bucket the policy's own patterns name.
    resources: [
      ...(bucketOpen ? [sim.bucketArn] : []),
      ...(anyObjectOpen ? [`${sim.bucketArn}/*`] : [...openPatterns]),
    ],
    closestStatement: closest?.label ?? null,
    reason: closest ? explainShortfall(sim, closest, probe) : fallbackReason,
  };
}

/** The statement that applies to the most of the requests that stay open; a Deny wins ties. */
function pickClosest(
  sim: Simulation,
  open: ProbeRequest[],
  candidates: PolicyStatement[],
): PolicyStatement | undefined {
  let best: PolicyStatement | undefined;
  let bestScore = -1;
  for (const statement of candidates) {
    // Whether it applies is independent of Effect, so an Allow can be the closest too.
    const matrix = applyMatrix(sim, statement);
    let score = statement.effect === 'Deny' ? 1 : 0;
    for (const request of open) score += matrix[request.index]! * 2;
    if (score > bestScore) {
      best = statement;
      bestScore = score;
    }
  }
  return best;
}

/** The partition of the bucket ARNs the policy names (`aws` when it names none). */
export function inferPartition(policy: ParsedPolicy, bucket: string): string {
  for (const statement of policy.statements) {
    for (const pattern of statement.resources.patterns) {
      const match = /^arn:([^:]+):s3:::(.*)$/.exec(pattern);
      if (match?.[1] && !match[1].includes('*') && (match[2] ?? '').startsWith(bucket)) {
        return match[1];
      }
    }
  }
  return 'aws';
}

function simulationFor(
  policy: ParsedPolicy,
  options: AnalyzeOptions,
  statements: PolicyStatement[],
  fixedKeys: string[],
): Simulation {
  const partition = options.partition ?? inferPartition(policy, options.bucket);
  const bucketArn = `arn:${partition}:s3:::${options.bucket}`;
  const fixed = PROBE_OBJECT_KEYS.map((key) => `${bucketArn}/${key}`);
  const derived = derivedObjectProbes(statements, bucketArn, fixed);
  const objectArns = [...fixed, ...derived.map((d) => d.arn)];
  const principals = [
    ...probePrincipals(
      options.accountId ?? accountNotNamedIn(policy),
      options.accountId !== undefined,
    ),
    ...statements
      .filter((s) => s.principal.negated)
      .flatMap((s) => s.principal.aws)
      .map((entry, i) => exemptedPrincipal(entry, i))
      .filter((p): p is ProbePrincipal => p !== undefined),
  ];
  const resources = [bucketArn, ...objectArns];
  return {
    statements,
    memo: new Map(),
    applies: new Map(),
    groupOf: new Int32Array(principals.length * ACTION_COUNT * resources.length).fill(-1),
    groups: [],
    groupIds: new Map(),
    requestCache: new Map(),
    resources,
    principals,
    bucketArn,
    objectArns,
    objectSources: [...fixed.map(() => undefined), ...derived.map((d) => d.pattern)],
    partition,
    fixedKeys: new Set(fixedKeys),
  };
}

/**
 * Without the bucket owner's account, the "same account" probe must not be an account the
 * policy names (it would inherit that account's treatment by accident): the first of a few
 * reserved-looking ids that appears nowhere in the policy.
 */
function accountNotNamedIn(policy: ParsedPolicy): string {
  const named = new Set(
    policy.statements.flatMap((s) =>
      s.principal.aws.map((entry) => /(\d{12})/.exec(entry)?.[1] ?? entry),
    ),
  );
  return (
    ['000000000000', '000000000001', '000000000002'].find((id) => !named.has(id)) ?? '000000000003'
  );
}

/** At most this many object probes are drawn from a policy's own patterns. */
const MAX_DERIVED_PROBES = 12;

/**
 * Object probes drawn from the Resource and NotResource patterns of the Deny statements that
 * decide a verdict (an Allow never enforces), so that a carve-out (`NotResource:
 * bucket/public/*`) or a Resource narrower than the bucket is probed inside as well as
 * outside: each pattern naming objects of this bucket yields a key that it matches. A key is
 * kept only when the set of patterns it matches is new: two keys that every pattern treats
 * alike cannot tell any verdict apart.
 */
function derivedObjectProbes(
  statements: PolicyStatement[],
  bucketArn: string,
  fixed: string[],
): { arn: string; pattern: string }[] {
  const denies = statements.filter((s) => s.effect === 'Deny');
  const patterns = [...new Set(denies.flatMap((s) => s.resources.patterns))].filter(
    (p) => p.startsWith('arn:') && p.includes('/'),
  );
  if (patterns.length === 0) return [];
  const signature = (arn: string) =>
    patterns.map((p) => (compileGlob(p, false)(arn) ? '1' : '0')).join('');
  const seen = new Set(fixed.map(signature));
  const probes: { arn: string; pattern: string }[] = [];
  for (const pattern of patterns) {
    const slash = pattern.indexOf('/');
    // The object part with its wildcards filled in: `public/*` gives `public/s3scan`.
    const key = pattern
      .slice(slash + 1)
      .replace(/\*/g, 's3scan')
      .replace(/\?/g, 'x');
    const arn = `${bucketArn}/${key}`;
    if (key === '' || !compileGlob(pattern, false)(arn)) continue;
    const id = signature(arn);
    if (seen.has(id)) continue;
    seen.add(id);
    probes.push({ arn, pattern });
    if (probes.length >= MAX_DERIVED_PROBES) break;
  }
  return probes;
}

function analyzeTls(policy: ParsedPolicy, options: AnalyzeOptions, gaps: PolicyGap[]): boolean {
  const relevant = policy.statements.filter((s) => referencesAny(s, [KEY_SECURE_TRANSPORT]));
  const sim = simulationFor(policy, options, relevant, [KEY_SECURE_TRANSPORT, KEY_TLS_VERSION]);
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

function analyzeTlsMinVersion(
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

function analyzeSse(
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
  const sim = simulationFor(policy, options, relevant, SSE_KEYS);
  const otherKey = `arn:${sim.partition}:kms:us-east-1:999999999999:key/00000000-0000-4000-8000-000000000000`;
  const uploads = (context: Record<string, string>) => buildRequests(sim, PUT_OBJECT, context);
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

/**
 * Decides the five verdicts of aws-facts.md section 3.3 for one bucket policy, by simulating
 * representative requests (every class of S3 action, on the bucket and its objects, from
 * anonymous, same-account and other-account principals, with and without the relevant keys)
 * against the policy with IAM's evaluation rules. Only an explicit Deny enforces.
 *
 * Throws {@link PolicyParseError} for a document that is not a policy; use
 * {@link analyzePolicySafely} at a boundary.
 *
 * @example
 * const result = analyzePolicy(policyJson, { bucket: 'my-bucket' });
 * if (!result.tlsEnforced) console.log(result.gaps[0]?.reason);
 */
export function analyzePolicy(document: unknown, options: AnalyzeOptions): PolicyAnalysis {
  const policy = parsePolicy(document);
  const gaps: PolicyGap[] = [];
  const notes: string[] = [];
  const tlsEnforced = analyzeTls(policy, options, gaps);
  const tlsMinVersion = analyzeTlsMinVersion(policy, options, gaps);
  const sse = analyzeSse(policy, options, gaps, notes);
  const partition = options.partition ?? inferPartition(policy, options.bucket);
  const headerlessUploadDenials =
    sse.sseEnforced === true
      ? denyingStatements(policy, {
          principal: { kind: 'anonymous' },
          action: 's3:PutObject',
          resource: `arn:${partition}:s3:::${options.bucket}/${PROBE_OBJECT_KEYS[0]}`,
          context: { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' },
        }).denying.map((statement) => statement.label)
      : [];
  return {
    tlsEnforced,
    tlsMinVersion,
    sseEnforced: sse.sseEnforced,
    kmsKeyEnforced: sse.kmsKeyEnforced,
    sseCBlocked: sse.sseCBlocked,
    gaps,
    pinnedKmsKeyArns: sse.pinned,
    headerlessUploadDenials,
    sseCRejectedAsSideEffect: sse.sseCRejectedAsSideEffect,
    notes,
  };
}

/** {@link analyzePolicy} that never throws: `{ error }` names what was wrong. */
export function analyzePolicySafely(
  document: unknown,
  options: AnalyzeOptions,
): { analysis: PolicyAnalysis } | { error: string } {
  try {
    return { analysis: analyzePolicy(document, options) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
