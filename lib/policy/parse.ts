import { PolicyParseError } from '../errors.js';
import { utf8ByteLength } from '../text/utf8.js';

/** A scalar condition value as written: IAM accepts quoted and unquoted booleans and numbers. */
type Scalar = string | number | boolean;

/** One `Operator: { key: values }` pair of a statement's Condition block. */
export interface ConditionClause {
  /** The operator as written, e.g. `StringNotEqualsIfExists`. */
  operator: string;
  /** Lower-case operator without qualifier and `IfExists`, e.g. `stringnotequals`. */
  base: string;
  ifExists: boolean;
  qualifier?: 'forallvalues' | 'foranyvalue';
  /** The key as written, e.g. `aws:SecureTransport`. */
  key: string;
  /** Condition key names are case-insensitive; this is the lower-case form used to match. */
  keyLower: string;
  /** Values as strings: `false` ≡ `"false"`, `1.2` ≡ `"1.2"`. Several values are OR-ed. */
  values: string[];
}

/** A normalised policy statement. */
export interface PolicyStatement {
  index: number;
  sid?: string;
  /** How to name the statement to a person: `Sid "X"` or `statement #2`. */
  label: string;
  effect: 'Allow' | 'Deny';
  /** `any` for `"*"` / `{"AWS":"*"}`; otherwise the listed principals. */
  principal: { any: boolean; aws: string[]; other: string[]; negated: boolean };
  actions: { patterns: string[]; negated: boolean };
  resources: { patterns: string[]; negated: boolean };
  conditions: ConditionClause[];
  /** Set for statements of an organisation policy judged with the bucket policy. */
  layer?: {
    kind: 'rcp' | 'scp' | 'access-point';
    policyId: string;
    policyName: string;
    attachedTo: string;
  };
}

/** A parsed bucket policy. */
export interface ParsedPolicy {
  version?: string;
  id?: string;
  statements: PolicyStatement[];
}

const KNOWN_BASE_OPERATORS = new Set([
  'stringequals',
  'stringnotequals',
  'stringequalsignorecase',
  'stringnotequalsignorecase',
  'stringlike',
  'stringnotlike',
  'numericequals',
  'numericnotequals',
  'numericlessthan',
  'numericlessthanequals',
  'numericgreaterthan',
  'numericgreaterthanequals',
  'dateequals',
  'datenotequals',
  'datelessthan',
  'datelessthanequals',
  'dategreaterthan',
  'dategreaterthanequals',
  'bool',
  'binaryequals',
  'ipaddress',
  'notipaddress',
  'arnequals',
  'arnlike',
  'arnnotequals',
  'arnnotlike',
  'null',
]);

/** Deeper than this, a document cannot be a policy (a real one nests about 7 levels). */
const MAX_POLICY_DEPTH = 64;

/**
 * How deep a JSON text nests arrays and objects, in one pass outside strings; stops counting
 * once past the limit, so a hostile 100,000-level document costs no recursion and no parse.
 */
function nestingDepth(text: string): number {
  // The regex engine drops the strings (an unterminated one runs to the end) and everything
  // but brackets; only the brackets are walked. Same answer as a character loop, a fraction
  // of the time on a megabyte of hostile input.
  const brackets = text.replace(JSON_STRINGS, '').replace(NOT_BRACKETS, '');
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < brackets.length; i++) {
    const ch = brackets.charCodeAt(i);
    if (ch === 0x7b || ch === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > MAX_POLICY_DEPTH) return deepest;
    } else depth--;
  }
  return deepest;
}

/**
 * True when a policy text nests deeper than any policy can. Checked before anything parses or
 * walks it, so a hostile document is refused with the same message on every path.
 */
export function nestsTooDeep(text: string): boolean {
  return nestingDepth(text) > MAX_POLICY_DEPTH;
}

const JSON_STRINGS = /"(?:[^"\\]|\\[\s\S])*"?/g;
const NOT_BRACKETS = /[^[\]{}]+/g;

/** AWS's size limit for a bucket policy (20 KB). */
export const MAX_POLICY_BYTES = 20 * 1024;

/** True when s3scan knows how IAM evaluates this (lower-case, unqualified) operator. */
export function isKnownOperator(base: string): boolean {
  return KNOWN_BASE_OPERATORS.has(base);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toStringList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyParseError(`${where} is an empty array`);
  return list.map((item, i) => {
    if (typeof item !== 'string') {
      throw new PolicyParseError(
        `${where}${Array.isArray(value) ? `[${i}]` : ''} must be a string, got ${describeType(item)}`,
      );
    }
    return item;
  });
}

function toScalarList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyParseError(`${where} is an empty array`);
  return list.map((item: unknown) => {
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
      return String(item as Scalar);
    }
    throw new PolicyParseError(
      `${where} must be a string, number or boolean, got ${describeType(item)}`,
    );
  });
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function parsePrincipal(
  raw: unknown,
  where: string,
  negated: boolean,
): PolicyStatement['principal'] {
  if (raw === '*') return { any: true, aws: [], other: [], negated };
  if (!isRecord(raw)) {
    throw new PolicyParseError(`${where} must be "*" or an object, got ${describeType(raw)}`);
  }
  const aws: string[] = [];
  const other: string[] = [];
  for (const [type, value] of Object.entries(raw)) {
    const list = toStringList(value, `${where}.${type}`);
    if (type === 'AWS') aws.push(...list);
    else other.push(...list.map((v) => `${type}:${v}`));
  }
  return { any: aws.includes('*'), aws, other, negated };
}

function parseCondition(raw: unknown, where: string): ConditionClause[] {
  if (raw === undefined) return [];
  if (!isRecord(raw)) throw new PolicyParseError(`${where} must be an object`);
  const clauses: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    if (!isRecord(block)) {
      throw new PolicyParseError(`${where}.${operator} must be an object of condition keys`);
    }
    let rest = operator.toLowerCase();
    let qualifier: ConditionClause['qualifier'];
    const colon = rest.indexOf(':');
    if (colon >= 0) {
      const prefix = rest.slice(0, colon);
      if (prefix === 'forallvalues' || prefix === 'foranyvalue') qualifier = prefix;
      rest = rest.slice(colon + 1);
    }
    const ifExists = rest.endsWith('ifexists') && rest !== 'ifexists';
    const base = ifExists ? rest.slice(0, -'ifexists'.length) : rest;
    for (const [key, value] of Object.entries(block)) {
      clauses.push({
        operator,
        base: colon >= 0 && !qualifier ? operator.toLowerCase() : base,
        ifExists,
        ...(qualifier ? { qualifier } : {}),
        key,
        keyLower: key.toLowerCase(),
        values: toScalarList(value, `${where}.${operator}.${key}`),
      });
    }
  }
  return clauses;
}

function pickExclusive(
  statement: Record<string, unknown>,
  positive: string,
  negative: string,
  where: string,
): { value: unknown; negated: boolean } {
  const hasPositive = positive in statement;
  const hasNegative = negative in statement;
  if (hasPositive && hasNegative) {
    throw new PolicyParseError(`${where} has both ${positive} and ${negative}`);
  }
  if (!hasPositive && !hasNegative) {
    throw new PolicyParseError(`${where} has neither ${positive} nor ${negative}`);
  }
  return hasPositive
    ? { value: statement[positive], negated: false }
    : { value: statement[negative], negated: true };
}

function parseStatement(raw: unknown, index: number): PolicyStatement {
  const where = `Statement[${index}]`;
  if (!isRecord(raw)) throw new PolicyParseError(`${where} must be an object`);
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') {
    throw new PolicyParseError(
      `${where}.Effect must be "Allow" or "Deny", got ${JSON.stringify(effect) ?? 'nothing'}`,
    );
  }
  const sid = raw.Sid;
  if (sid !== undefined && typeof sid !== 'string') {
    throw new PolicyParseError(`${where}.Sid must be a string`);
  }
  const principal = pickExclusive(raw, 'Principal', 'NotPrincipal', where);
  const action = pickExclusive(raw, 'Action', 'NotAction', where);
  const resource = pickExclusive(raw, 'Resource', 'NotResource', where);
  return {
    index,
    ...(sid !== undefined ? { sid } : {}),
    label: sid ? `statement #${index} (Sid "${sid}")` : `statement #${index}`,
    effect,
    principal: parsePrincipal(
      principal.value,
      `${where}.${principal.negated ? 'NotPrincipal' : 'Principal'}`,
      principal.negated,
    ),
    actions: {
      patterns: toStringList(action.value, `${where}.${action.negated ? 'NotAction' : 'Action'}`),
      negated: action.negated,
    },
    resources: {
      patterns: toStringList(
        resource.value,
        `${where}.${resource.negated ? 'NotResource' : 'Resource'}`,
      ),
      negated: resource.negated,
    },
    conditions: parseCondition(raw.Condition, `${where}.Condition`),
  };
}

/**
 * Parses a bucket policy document (a JSON string as GetBucketPolicy returns it, or an already
 * parsed value) into normalised statements.
 *
 * Accepts everything IAM accepts: `Statement` as object or array, string-or-array elements,
 * `"*"` principals, quoted or bare booleans and numbers. Throws {@link PolicyParseError} naming
 * the offending field for anything that is not a policy.
 *
 * @example
 * const policy = parsePolicy('{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}');
 */
export function parsePolicy(
  document: unknown,
  options: { maxBytes?: number; kind?: string } = {},
): ParsedPolicy {
  const maxBytes = options.maxBytes ?? MAX_POLICY_BYTES;
  const kind = options.kind ?? 'bucket policies';
  let doc = document;
  if (typeof document === 'string') {
    // Editors on Windows save a UTF-8 byte order mark; JSON.parse refuses it.
    const text = document.charCodeAt(0) === 0xfeff ? document.slice(1) : document;
    const depth = nestingDepth(text);
    if (depth > MAX_POLICY_DEPTH) {
      throw new PolicyParseError(
        `the policy nests more than ${MAX_POLICY_DEPTH} levels deep; a bucket policy needs about 7, so this cannot be one`,
      );
    }
    // Every character but whitespace survives minifying (whitespace inside strings too), so
    // more of them than the limit is too large whatever the JSON says: refused unparsed.
    if (text.length > maxBytes && text.replace(/\s+/g, '').length > maxBytes)
      throw new PolicyParseError(
        `the policy has more than ${maxBytes} characters besides whitespace; AWS limits ${kind} to ${maxBytes / 1024} KB, so this cannot be one`,
      );
    try {
      doc = JSON.parse(text);
    } catch (error) {
      // One line: JSON.parse quotes the input, which may hold line breaks.
      const reason = String((error as Error).message).replace(/\s*[\r\n]+\s*/g, ' ');
      throw new PolicyParseError(`the policy is not valid JSON: ${reason}`, { cause: error });
    }
  }
  if (!isRecord(doc)) {
    throw new PolicyParseError(`a policy must be a JSON object, got ${describeType(doc)}`);
  }
  const size = utf8ByteLength(JSON.stringify(doc));
  if (size > maxBytes) {
    throw new PolicyParseError(
      `the policy is ${size} bytes without whitespace; AWS limits ${kind} to ${maxBytes / 1024} KB, so this cannot be one`,
    );
  }
  const version = doc.Version;
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') {
    throw new PolicyParseError(
      `Version must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(version)}`,
    );
  }
  if (!('Statement' in doc)) throw new PolicyParseError('the policy has no Statement');
  const rawStatements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (rawStatements.length === 0) throw new PolicyParseError('Statement is an empty array');
  return {
    ...(typeof version === 'string' ? { version } : {}),
    ...(typeof doc.Id === 'string' ? { id: doc.Id } : {}),
    statements: rawStatements.map((raw: unknown, i: number) => parseStatement(raw, i)),
  };
}
