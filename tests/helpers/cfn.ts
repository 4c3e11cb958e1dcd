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
    if (key === 'Fn::Sub')
      return String(arg).replace(
        /\$\{([^}]+)\}/g,
        (_, name: string) => pseudo[name] ?? names[name]?.ref ?? `unresolved:${name}`,
      );
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
