import { compileGlob } from '../text/glob.js';
import type { PolicyStatement } from './parse.js';
import { PROBE_ACTIONS } from './requests.js';

/** Who makes a request, as far as a resource policy can tell. */
export interface RequestPrincipal {
  kind: string;
  /** Absent for anonymous requests. */
  account?: string;
  arn?: string;
}

/**
 * Does the statement's Principal (or NotPrincipal) cover this principal? `"*"` covers everyone,
 * anonymous included; an account id or root ARN covers every principal of that account; any
 * other ARN covers exactly itself.
 */
export function principalMatches(statement: PolicyStatement, principal: RequestPrincipal): boolean {
  const spec = statement.principal;
  let matches = spec.any;
  if (!matches && principal.kind !== 'anonymous') {
    matches = spec.aws.some((entry) => {
      if (/^\d{12}$/.test(entry)) return entry === principal.account;
      const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(entry);
      if (root) return root[1] === principal.account;
      return entry === principal.arn;
    });
  }
  return spec.negated ? !matches : matches;
}
/** Action and resource matches of a statement, computed once per statement. */
const targetMatches = new WeakMap<
  PolicyStatement,
  { actions: Map<string, boolean>; resources: Map<string, boolean> }
>();

function matchesOf(statement: PolicyStatement) {
  let entry = targetMatches.get(statement);
  if (!entry) {
    entry = { actions: new Map(), resources: new Map() };
    targetMatches.set(statement, entry);
  }
  return entry;
}

/** Does the statement's Action (or NotAction) cover the action? Case-insensitive, with wildcards. */
export function actionMatches(statement: PolicyStatement, action: string): boolean {
  const cache = matchesOf(statement).actions;
  let result = cache.get(action);
  if (result === undefined) {
    const matchers = statement.actions.patterns.map((p) => compileGlob(p, true));
    for (const probe of PROBE_ACTIONS) {
      const hit = matchers.some((m) => m(probe.name));
      cache.set(probe.name, statement.actions.negated ? !hit : hit);
    }
    result = cache.get(action);
    if (result === undefined) {
      const hit = matchers.some((m) => m(action));
      result = statement.actions.negated ? !hit : hit;
      cache.set(action, result);
    }
  }
  return result;
}

/** Does the statement's Resource (or NotResource) cover the ARN? Case-sensitive, with wildcards. */
export function resourceMatches(statement: PolicyStatement, arn: string): boolean {
  const cache = matchesOf(statement).resources;
  let result = cache.get(arn);
  if (result === undefined) {
    const hit = statement.resources.patterns.some((p) => compileGlob(p, false)(arn));
    result = statement.resources.negated ? !hit : hit;
    cache.set(arn, result);
  }
  return result;
}
