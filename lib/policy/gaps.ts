import type { PolicyGap, PolicyVerdicts } from './analysis-types.js';
import { unsupportedReason } from './conditions.js';
import { actionMatches, resourceMatches } from './match.js';
import type { PolicyStatement } from './parse.js';
import { PROBE_ACTIONS, type ProbeAction } from './requests.js';
import {
  ACTION_COUNT,
  applyMatrix,
  KEY_KMS_KEY_ID,
  KEY_SECURE_TRANSPORT,
  KEY_SSE,
  KEY_TLS_VERSION,
  type ProbeRequest,
  type Simulation,
} from './simulation.js';

// Gap explanation: for a verdict that is not met, which requests stay allowed and why the
// statement that came closest does not deny them.

function listSome(items: Iterable<string>, max = 6): string[] {
  const unique = [...new Set(items)];
  return unique.length <= max
    ? unique
    : [...unique.slice(0, max), `…and ${unique.length - max} more`];
}

/** What a verdict asked of the policy: the keys it fixes and the requests it needed denied. */
export interface VerdictProbe {
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

/** The gap of one verdict: what stays allowed and why the closest statement falls short. */
export function buildGap(
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
