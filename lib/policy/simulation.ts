import { compileGlob } from '../text/glob.js';
import type { AnalyzeOptions } from './analysis-types.js';
import { evaluateConditions, type RequestContext, type Tri } from './conditions.js';
import { actionMatches, principalMatches, resourceMatches } from './match.js';
import type { ParsedPolicy, PolicyStatement } from './parse.js';
import {
  exemptedPrincipal,
  PROBE_ACTIONS,
  PROBE_OBJECT_KEYS,
  type ProbeAction,
  type ProbePrincipal,
  probePrincipals,
} from './requests.js';

// Request simulation: the probe requests (principal × action × resource × condition context)
// a verdict needs, and whether IAM's evaluation denies each of them.

/** The condition keys the verdicts turn on, lower-cased as IAM compares them. */
export const KEY_SECURE_TRANSPORT = 'aws:securetransport';
export const KEY_TLS_VERSION = 's3:tlsversion';
export const KEY_SSE = 's3:x-amz-server-side-encryption';
export const KEY_KMS_KEY_ID = 's3:x-amz-server-side-encryption-aws-kms-key-id';
export const KEY_SSE_C = 's3:x-amz-server-side-encryption-customer-algorithm';
export const SSE_KEYS = [KEY_SSE, KEY_KMS_KEY_ID, KEY_SSE_C];
/**
 * The keys a request made through an access point carries. A request over plain HTTP never
 * does: access points accept HTTPS only, so a Deny of every request not made through one
 * denies every plain HTTP request.
 */
export const ACCESS_POINT_KEYS = [
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
  's3:accesspointnetworkorigin',
];
/** The TLS versions a request may negotiate, oldest first. */
export const TLS_VERSIONS = ['1.0', '1.1', '1.2', '1.3'];
/** Above this many combinations of other condition keys, s3scan stops and stays conservative. */
const MAX_CONTEXTS = 512;
const UNLISTED_VALUE = 'zz-s3scan-unlisted-value';
/** How many probe actions there are: the width of an apply matrix row. */
export const ACTION_COUNT = PROBE_ACTIONS.length;
const ACTION_INDEX = new Map(PROBE_ACTIONS.map((a, i) => [a.name, i]));

/** One (principal, action, resource) a request can target; built once per simulation. */
export interface ProbeRequest {
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

/** A policy prepared for simulation: its live statements, probe principals, resources and cached matrices. */
export interface Simulation {
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

/** True when the statement's conditions name any of the keys. */
export function referencesAny(statement: PolicyStatement, keys: readonly string[]): boolean {
  return statement.conditions.some((c) => keys.includes(c.keyLower));
}

/** The Deny statements that apply to at least one probe request; the rest cannot deny anything. */
function liveDenies(sim: Simulation): PolicyStatement[] {
  sim.live ??= sim.statements.filter((s) => s.effect === 'Deny' && applyMatrix(sim, s).includes(1));
  return sim.live;
}

/** Which probe requests a statement applies to (principal × action × resource), computed once. */
export function applyMatrix(sim: Simulation, statement: PolicyStatement): Uint8Array {
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
export function buildRequests(
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
export function allDenied(
  sim: Simulation,
  sets: RequestSet[],
): { result: Tri; open: ProbeRequest[] } {
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
export function someAllowed(sim: Simulation, sets: RequestSet[]): boolean {
  return sets.some((set) => set.requests.some((r) => deniedEverywhere(sim, r, set) === false));
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

/** Prepares a simulation of the statements that matter for a verdict, with the keys the verdict fixes. */
export function simulationFor(
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
