import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';

type Json = unknown;
type SpecType = {
  type: string;
  reference?: { $ref: string };
  element?: SpecType;
  types?: SpecType[];
};
type SpecProperty = { type: SpecType; required?: boolean };

let db: ReturnType<typeof loadAwsServiceSpecSync> | undefined;

function isIntrinsic(value: Json): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 &&
    (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::') || keys[0] === 'Condition')
  );
}

function checkValue(value: Json, type: SpecType, path: string, problems: string[]): void {
  if (isIntrinsic(value)) return;
  switch (type.type) {
    case 'ref': {
      const definition = db!.get('typeDefinition', type.reference as never) as unknown as {
        properties: Record<string, SpecProperty>;
      };
      checkProperties(value, definition.properties, path, problems);
      return;
    }
    case 'array':
      if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
      else {
        for (const [i, item] of value.entries())
          checkValue(item, type.element!, `${path}[${i}]`, problems);
      }
      return;
    case 'map':
      if (typeof value === 'object' && value !== null)
        for (const [k, v] of Object.entries(value))
          checkValue(v, type.element!, `${path}.${k}`, problems);
      return;
    case 'union':
      // Accept if any member type accepts it.
      if (
        !(type.types ?? []).some((t) => {
          const p: string[] = [];
          checkValue(value, t, path, p);
          return p.length === 0;
        })
      )
        problems.push(`${path}: matches no allowed type`);
      return;
    default:
      return;
  }
}

function checkProperties(
  value: Json,
  properties: Record<string, SpecProperty>,
  path: string,
  problems: string[],
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const spec = properties[name];
    if (!spec) problems.push(`${path}.${name}: not a property of this type`);
    else checkValue(child, spec.type, `${path}.${name}`, problems);
  }
  for (const [name, spec] of Object.entries(properties)) {
    if (spec.required && !(name in value)) problems.push(`${path}.${name}: required`);
  }
}

/**
 * Checks every resource of a CloudFormation template against the CloudFormation resource
 * database of @aws-cdk/aws-service-spec: known types, known property names (nested types
 * included) and required properties. Returns the problems found.
 */
export function validateTemplate(template: {
  Resources: Record<string, { Type: string; Properties?: Json }>;
}): string[] {
  db ??= loadAwsServiceSpecSync();
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    // A custom resource's type and properties are the stack's own: no spec describes them.
    if (resource.Type.startsWith('Custom::')) continue;
    const found = db.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (found.length === 0) {
      problems.push(`${logicalId}: unknown resource type ${resource.Type}`);
      continue;
    }
    const spec = found[0] as unknown as { properties: Record<string, SpecProperty> };
    checkProperties(resource.Properties ?? {}, spec.properties, logicalId, problems);
  }
  return problems;
}

/** Resolves the intrinsics s3scan's template uses to concrete values, for analysis. */
export function resolve(
  value: Json,
  names: Record<string, { ref: string; arn: string }>,
  pseudo: Record<string, string>,
  conditions: Record<string, boolean> = {},
): Json {
  if (Array.isArray(value))
    return value.map((v) => resolve(v, names, pseudo, conditions)).filter((v) => v !== NO_VALUE);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, arg] = entries[0]!;
    if (key === 'Ref' && arg === 'AWS::NoValue') return NO_VALUE;
    if (key === 'Fn::If') {
      const [condition, yes, no] = arg as [string, Json, Json];
      if (!(condition in conditions)) return `unresolved:${condition}`;
      return resolve(conditions[condition] ? yes : no, names, pseudo, conditions);
    }
    if (key === 'Ref')
      return pseudo[arg as string] ?? names[arg as string]?.ref ?? `unresolved:${arg}`;
    if (key === 'Fn::GetAtt') return names[(arg as string[])[0]!]?.arn ?? `unresolved:${arg}`;
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, Json[]];
      return parts.map((p) => resolve(p, names, pseudo, conditions)).join(separator);
    }
    if (key === 'Fn::Sub') {
      // The list form carries variables of its own, resolved first.
      const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [arg, {}];
      const own = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, String(resolve(v, names, pseudo, conditions))]),
      );
      // `${!Literal}` is CloudFormation's escape: the text `${Literal}` (an IAM policy variable).
      return String(text).replace(/\$\{([^}]+)\}/g, (_, name: string) =>
        name.startsWith('!')
          ? `\${${name.slice(1)}}`
          : (own[name] ?? pseudo[name] ?? names[name]?.ref ?? `unresolved:${name}`),
      );
    }
  }
  // A property whose value is AWS::NoValue is removed, as CloudFormation does.
  return Object.fromEntries(
    entries
      .map(([k, v]) => [k, resolve(v, names, pseudo, conditions)] as const)
      .filter(([, v]) => v !== NO_VALUE),
  );
}

/** What `Ref: AWS::NoValue` resolves to: dropped from lists and objects by {@link resolve}. */
export const NO_VALUE = Symbol('AWS::NoValue');

/** Every logical id a value refers to (Ref, Fn::GetAtt, Fn::Sub variables), pseudo ones left out. */
function referencesOf(value: Json, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencesOf(v, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, arg] of Object.entries(value)) {
      if (key === 'Ref' && typeof arg === 'string' && !arg.startsWith('AWS::')) into.add(arg);
      else if (key === 'Fn::GetAtt')
        into.add(Array.isArray(arg) ? String(arg[0]) : (String(arg).split('.')[0] ?? ''));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(arg) ? String(arg[0]) : String(arg);
        const own = Array.isArray(arg) ? Object.keys((arg[1] ?? {}) as object) : [];
        for (const [, name] of text.matchAll(/\$\{([^}!]+)\}/g)) {
          const id = (name ?? '').split('.')[0] ?? '';
          if (!id.startsWith('AWS::') && !own.includes(id)) into.add(id);
        }
        if (Array.isArray(arg)) referencesOf(arg[1] ?? {}, into);
      } else referencesOf(arg, into);
    }
  }
  return into;
}

/**
 * The dependency cycles of a template (CloudFormation refuses a template with one, at deploy
 * time, after everything else was checked): each as the list of logical ids around it.
 */
export function dependencyCycles(template: {
  Resources: Record<string, { Properties?: Json; DependsOn?: string | string[] }>;
}): string[][] {
  const edges = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const deps = referencesOf(resource.Properties ?? {}, new Set());
    for (const d of [resource.DependsOn ?? []].flat()) deps.add(d);
    edges.set(
      id,
      [...deps].filter((d) => d in template.Resources),
    );
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string) => {
    state.set(id, 'open');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(id, 'done');
  };
  for (const id of edges.keys()) if (!state.has(id)) visit(id);
  return cycles;
}
