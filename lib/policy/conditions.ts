import { globMatch } from '../text/glob.js';
import { type ConditionClause, isKnownOperator } from './parse.js';

/** Three-valued logic: IAM's answer, or `unknown` where s3scan cannot tell. */
export type Tri = true | false | 'unknown';

/** Request context: lower-case key name to its values; a missing entry is an absent key. */
export type RequestContext = ReadonlyMap<string, readonly string[]>;

const NEGATED = new Set([
  'stringnotequals',
  'stringnotequalsignorecase',
  'stringnotlike',
  'numericnotequals',
  'datenotequals',
  'notipaddress',
  'arnnotequals',
  'arnnotlike',
]);

/** Keys whose type is Boolean: other operators on them are a type mismatch IAM does not define. */
const BOOLEAN_KEYS = new Set([
  'aws:securetransport',
  'aws:multifactorauthpresent',
  'aws:viaawsservice',
]);

/** Why a clause evaluates to `unknown`, or undefined when s3scan evaluates it exactly. */
export function unsupportedReason(clause: ConditionClause): string | undefined {
  if (!isKnownOperator(clause.base)) {
    return `the condition operator ${clause.operator} is not one s3scan understands`;
  }
  if (BOOLEAN_KEYS.has(clause.keyLower) && clause.base !== 'bool' && clause.base !== 'null') {
    return `${clause.operator} on the Boolean key ${clause.key} is a type mismatch whose effect IAM does not document`;
  }
  return undefined;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [network = '', bitsText] = cidr.split('/');
  const address = parseIpv4(ip);
  const base = parseIpv4(network);
  if (address === undefined || base === undefined) return ip === cidr;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(base / size);
}

function arnMatch(pattern: string, value: string): boolean {
  // ArnEquals and ArnLike both compare the six colon-separated parts, each with wildcards.
  const p = pattern.split(':');
  const v = value.split(':');
  if (p.length < 6 || v.length < 6) return globMatch(pattern, value, false);
  const pHead = p.slice(0, 5);
  const vHead = v.slice(0, 5);
  if (!pHead.every((part, i) => globMatch(part, vHead[i] ?? '', false))) return false;
  return globMatch(p.slice(5).join(':'), v.slice(5).join(':'), false);
}

/** The positive comparison behind an operator (negated operators invert it). */
function positiveMatch(base: string, contextValue: string, policyValue: string): boolean {
  switch (base) {
    case 'stringequals':
    case 'stringnotequals':
    case 'binaryequals':
      return contextValue === policyValue;
    case 'stringequalsignorecase':
    case 'stringnotequalsignorecase':
      return contextValue.toLowerCase() === policyValue.toLowerCase();
    case 'stringlike':
    case 'stringnotlike':
      return globMatch(policyValue, contextValue, false);
    case 'bool':
      return contextValue.toLowerCase() === policyValue.toLowerCase();
    case 'ipaddress':
    case 'notipaddress':
      return ipInCidr(contextValue, policyValue);
    case 'arnequals':
    case 'arnlike':
    case 'arnnotequals':
    case 'arnnotlike':
      return arnMatch(policyValue, contextValue);
    default:
      return compareOrdered(base, contextValue, policyValue);
  }
}

function compareOrdered(base: string, contextValue: string, policyValue: string): boolean {
  const numeric = base.startsWith('numeric');
  const a = numeric ? Number(contextValue) : Date.parse(contextValue);
  const b = numeric ? Number(policyValue) : Date.parse(policyValue);
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  const op = base.slice(numeric ? 'numeric'.length : 'date'.length);
  switch (op) {
    case 'equals':
    case 'notequals':
      return a === b;
    case 'lessthan':
      return a < b;
    case 'lessthanequals':
      return a <= b;
    case 'greaterthan':
      return a > b;
    case 'greaterthanequals':
      return a >= b;
    default:
      return false;
  }
}

/** One context value against the clause's values: OR for positive, AND of NOTs for negated. */
function valueMatches(clause: ConditionClause, contextValue: string): boolean {
  const negated = NEGATED.has(clause.base);
  const anyMatch = clause.values.some((v) => positiveMatch(clause.base, contextValue, v));
  return negated ? !anyMatch : anyMatch;
}

/**
 * Evaluates one condition clause against a request context with IAM's rules: an absent key
 * makes positive operators false and negated operators true; `…IfExists` makes it true;
 * `Null: true` means "absent"; `ForAllValues` on an absent key is vacuously true.
 */
export function evaluateClause(clause: ConditionClause, context: RequestContext): Tri {
  const contextValues = context.get(clause.keyLower);
  if (clause.base === 'null') {
    const absent = contextValues === undefined || contextValues.length === 0;
    return clause.values.some((v) => (v.toLowerCase() === 'true') === absent);
  }
  if (unsupportedReason(clause)) return 'unknown';
  if (contextValues === undefined || contextValues.length === 0) {
    if (clause.qualifier === 'forallvalues') return true;
    if (clause.qualifier === 'foranyvalue') return false;
    if (clause.ifExists) return true;
    return NEGATED.has(clause.base);
  }
  if (clause.qualifier === 'forallvalues') {
    return contextValues.every((c) => valueMatches(clause, c));
  }
  return contextValues.some((c) => valueMatches(clause, c));
}

/** AND of all clauses of a statement, in three-valued logic. */
export function evaluateConditions(
  clauses: readonly ConditionClause[],
  context: RequestContext,
): Tri {
  let result: Tri = true;
  for (const clause of clauses) {
    const value = evaluateClause(clause, context);
    if (value === false) return false;
    if (value === 'unknown') result = 'unknown';
  }
  return result;
}
