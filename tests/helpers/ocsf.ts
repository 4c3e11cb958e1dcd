/**
 * A validator of OCSF event records against the official schema's data files (a copy of the
 * ocsf/ocsf-schema 1.8.0 subset in tests/fixtures, unchanged): classes resolved through
 * `extends` and `$include`d profiles, objects through theirs, attribute types from the
 * dictionary (primitive types through their base type), enums, required attributes, deprecated
 * attributes, and the profiles a record uses against those `metadata.profiles` declares.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the schema copy lives. */
export const OCSF_SCHEMA_DIR = fileURLToPath(
  new URL('../fixtures/ocsf-schema-1.8.0/', import.meta.url),
);

interface AttributeSpec {
  type?: string;
  is_array?: boolean;
  enum?: Record<string, { caption?: string; '@deprecated'?: unknown }>;
  requirement?: string;
  sibling?: string;
  profile?: string | null;
  '@deprecated'?: { message?: string; since?: string };
}

interface Definition {
  name: string;
  extends?: string;
  /** Attribute specs by name, and `$include`: the profile files merged in. */
  attributes: Record<string, AttributeSpec> & { $include?: string[] };
}

/** A class or object with every inherited and included attribute merged in. */
interface Resolved {
  name: string;
  attributes: Map<string, AttributeSpec>;
  /** Event classes: `category_uid * 1000 + uid`, and the category's uid. */
  classUid?: number;
  categoryUid?: number;
}

/**
 * An attribute as the compiler sees it: the dictionary's, then the parent's, then the
 * definition's own; enums merge (the dictionary's 0 Unknown and 99 Other stay).
 */
function merged(...specs: (AttributeSpec | undefined)[]): AttributeSpec {
  const result: AttributeSpec = {};
  for (const spec of specs) {
    if (!spec) continue;
    const enumBefore = result.enum;
    Object.assign(result, spec);
    if (enumBefore && spec.enum) result.enum = { ...enumBefore, ...spec.enum };
  }
  return result;
}

const read = (dir: string, path: string): Definition =>
  JSON.parse(readFileSync(join(dir, path), 'utf8')) as Definition;

/** The loaded schema: the dictionary, and resolvers for classes and objects. */
export class OcsfSchema {
  private readonly dictionary: Record<string, AttributeSpec>;
  private readonly types: Record<string, { type?: string }>;
  private readonly objects = new Map<string, Resolved>();
  public readonly version: string;

  public constructor(private readonly dir = OCSF_SCHEMA_DIR) {
    const dictionary = JSON.parse(readFileSync(join(dir, 'dictionary.json'), 'utf8')) as {
      attributes: Record<string, AttributeSpec>;
      types: { attributes: Record<string, { type?: string }> };
    };
    this.dictionary = dictionary.attributes;
    this.types = dictionary.types.attributes;
    this.version = (
      JSON.parse(readFileSync(join(dir, 'version.json'), 'utf8')) as { version: string }
    ).version;
  }

  /** Merges a definition's attributes over its parent's, with `$include`d profiles marked. */
  private resolve(definition: Definition, parent: Resolved | undefined): Resolved {
    const attributes = new Map(parent?.attributes);
    const own = definition.attributes ?? {};
    for (const include of (own.$include as string[] | undefined) ?? []) {
      const profile = read(this.dir, include);
      for (const [name, spec] of Object.entries(profile.attributes ?? {}) as [
        string,
        AttributeSpec,
      ][])
        attributes.set(name, {
          ...merged(this.dictionary[name], attributes.get(name), spec),
          profile: profile.name,
        });
    }
    for (const [name, spec] of Object.entries(own) as [string, AttributeSpec][]) {
      if (name === '$include') continue;
      attributes.set(name, merged(this.dictionary[name], attributes.get(name), spec));
    }
    return { name: definition.name, attributes };
  }

  /** The event class at `path` under events/ (e.g. `findings/compliance_finding.json`). */
  public eventClass(path: string): Resolved {
    const chain: Definition[] = [];
    let definition = read(this.dir, join('events', path));
    chain.unshift(definition);
    while (definition.extends) {
      const parentPath =
        definition.extends === 'base_event'
          ? 'events/base_event.json'
          : `events/findings/${definition.extends}.json`;
      definition = read(this.dir, parentPath);
      chain.unshift(definition);
    }
    const resolved = chain.reduce<Resolved | undefined>(
      (parent, d) => this.resolve(d, parent),
      undefined,
    )!;
    // The class's own uid and its category's (categories.json), as the compiled schema has them.
    const own = chain[chain.length - 1] as Definition & { uid?: number };
    // The nearest definition's category: base_event has one of its own.
    const category = [...chain]
      .reverse()
      .map((d) => (d as { category?: string }).category)
      .find(Boolean);
    const categories = JSON.parse(readFileSync(join(this.dir, 'categories.json'), 'utf8')) as {
      attributes: Record<string, { uid: number }>;
    };
    const categoryUid = category ? categories.attributes[category]?.uid : undefined;
    return {
      ...resolved,
      ...(categoryUid !== undefined && own.uid !== undefined
        ? { classUid: categoryUid * 1000 + own.uid, categoryUid }
        : {}),
    };
  }

  /** An object by name, with its parents. */
  public object(name: string): Resolved {
    let resolved = this.objects.get(name);
    if (!resolved) {
      const definition = read(this.dir, join('objects', `${name}.json`));
      const parent = definition.extends ? this.object(definition.extends) : undefined;
      resolved = this.resolve(definition, parent);
      this.objects.set(name, resolved);
    }
    return resolved;
  }

  /** True when `type` names a dictionary data type (else it is an object name). */
  public isPrimitive(type: string): boolean {
    return type in this.types;
  }

  /** The base of a data type: `timestamp_t` → `long_t`, `port_t` → `integer_t`. */
  public baseType(type: string): string {
    let current = type;
    for (let i = 0; i < 5; i++) {
      const next = this.types[current]?.type;
      if (!next) return current;
      current = next;
    }
    return current;
  }

  public hasObject(name: string): boolean {
    return existsSync(join(this.dir, 'objects', `${name}.json`));
  }
}

function primitiveProblem(base: string, value: unknown): string | undefined {
  switch (base) {
    case 'string_t':
      return typeof value === 'string' ? undefined : 'is not a string';
    case 'integer_t':
    case 'long_t':
      return Number.isInteger(value) ? undefined : 'is not an integer';
    case 'float_t':
      return typeof value === 'number' ? undefined : 'is not a number';
    case 'boolean_t':
      return typeof value === 'boolean' ? undefined : 'is not a boolean';
    case 'json_t':
      return undefined;
    default:
      return `has a type the validator does not know (${base})`;
  }
}

/**
 * Every way a record breaks the class: unknown, mistyped, deprecated or missing attributes,
 * enum values outside the enum, captions that disagree with their id, and profiles used but
 * not declared in `metadata.profiles` (or declared and their required attributes missing).
 */
export function ocsfViolations(
  schema: OcsfSchema,
  eventClass: Resolved,
  record: Record<string, unknown>,
): string[] {
  const problems: string[] = [];
  const declared = new Set(
    ((record.metadata as { profiles?: unknown } | undefined)?.profiles as string[] | undefined) ??
      [],
  );
  const used = new Set<string>();

  const check = (
    resolved: Resolved,
    value: Record<string, unknown>,
    path: string,
    open: boolean,
  ) => {
    for (const [key, child] of Object.entries(value)) {
      const where = path ? `${path}.${key}` : key;
      const spec = resolved.attributes.get(key);
      if (!spec) {
        if (!open) problems.push(`${where} is not an attribute of ${resolved.name}`);
        continue;
      }
      if (spec['@deprecated'])
        problems.push(
          `${where} is deprecated since ${spec['@deprecated'].since}: ${spec['@deprecated'].message}`,
        );
      if (spec.profile) used.add(spec.profile);
      checkValue(spec, child, where);
      // A sibling caption (severity of severity_id) must match the enum's caption.
      if (spec.enum && spec.sibling && value[spec.sibling] !== undefined) {
        const caption = spec.enum[String(child)]?.caption;
        if (caption && String(child) !== '99' && value[spec.sibling] !== caption)
          problems.push(
            `${where} ${child} is captioned "${value[spec.sibling]}", not "${caption}"`,
          );
      }
    }
    for (const [key, spec] of resolved.attributes) {
      if (spec.requirement !== 'required' || value[key] !== undefined) continue;
      if (spec.profile && !declared.has(spec.profile)) continue;
      problems.push(`${path ? `${path}.` : ''}${key} is required by ${resolved.name}`);
    }
  };

  const checkValue = (spec: AttributeSpec, value: unknown, where: string) => {
    if (spec.is_array) {
      if (!Array.isArray(value)) {
        problems.push(`${where} is not an array`);
        return;
      }
      value.forEach((item, i) => {
        checkOne(spec, item, `${where}[${i}]`);
      });
      return;
    }
    if (Array.isArray(value)) {
      problems.push(`${where} is an array, not one value`);
      return;
    }
    checkOne(spec, value, where);
  };

  const checkOne = (spec: AttributeSpec, value: unknown, where: string) => {
    const type = spec.type ?? 'string_t';
    if (schema.isPrimitive(type)) {
      const problem = primitiveProblem(schema.baseType(type), value);
      if (problem) problems.push(`${where} ${problem}`);
      if (spec.enum && !(String(value) in spec.enum))
        problems.push(`${where} ${JSON.stringify(value)} is not in its enum`);
      else if (spec.enum?.[String(value)]?.['@deprecated'])
        problems.push(`${where} ${JSON.stringify(value)} is a deprecated enum value`);
      return;
    }
    if (typeof value !== 'object' || value === null) {
      problems.push(`${where} is not an object (${type})`);
      return;
    }
    if (!schema.hasObject(type)) {
      problems.push(`${where}: object ${type} is not in the schema copy`);
      return;
    }
    // `object` is OCSF's generic object: any attributes (e.g. `unmapped`).
    check(schema.object(type), value as Record<string, unknown>, where, type === 'object');
  };

  // class_uid, category_uid and type_uid are the class's own, not the base event's enums.
  const { classUid, categoryUid } = eventClass;
  for (const [key, expected] of [
    ['class_uid', classUid],
    ['category_uid', categoryUid],
    ['type_uid', classUid === undefined ? undefined : classUid * 100 + Number(record.activity_id)],
  ] as const) {
    if (expected === undefined) continue;
    if (record[key] !== expected) problems.push(`${key} ${record[key]} is not ${expected}`);
  }
  const withoutBaseEnums: Resolved = {
    ...eventClass,
    attributes: new Map(
      [...eventClass.attributes].map(([key, spec]) =>
        key === 'class_uid' || key === 'category_uid' || key === 'type_uid'
          ? [key, { ...spec, enum: undefined }]
          : [key, spec],
      ),
    ),
  };
  check(withoutBaseEnums, record, '', false);
  for (const profile of used)
    if (!declared.has(profile))
      problems.push(
        `attributes of the ${profile} profile are used but metadata.profiles does not declare it`,
      );
  return problems;
}
