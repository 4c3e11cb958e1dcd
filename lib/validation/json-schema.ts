import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });

/**
 * The defaults an object schema declares (`default` of each property), as the object they
 * make: one declaration gives a setting's type, its validation and its default.
 */
export function defaultsOf<T>(schema: { properties: Record<string, { default?: unknown }> }): T {
  return Object.fromEntries(
    Object.entries(schema.properties)
      .filter(([, property]) => property.default !== undefined)
      .map(([name, property]) => [name, property.default]),
  ) as T;
}

/** Compiles a JSON Schema once; the validator is reused for every document. */
export function compileSchema<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

function fieldPath(error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') {
    segments.push(String((error.params as { additionalProperty: string }).additionalProperty));
  }
  if (error.keyword === 'required') {
    segments.push(String((error.params as { missingProperty: string }).missingProperty));
  }
  if (error.keyword === 'propertyNames') {
    segments.push(String((error.params as { propertyName: string }).propertyName));
  }
  return segments.reduce(
    (path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s),
    '',
  );
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return 'is required';
    case 'enum':
      return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'propertyNames':
      return 'is not a known name';
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * Turns ajv errors into lines that name the field, e.g.
 * `rules.s3-bucket-key-enabled.severity: must be one of "critical", "high", …`.
 */
export function formatSchemaErrors(errors: ErrorObject[] | null | undefined): string[] {
  const lines = (errors ?? [])
    // propertyNames reports once for the name and once more for the enum inside; keep one.
    .filter((e) => !(e.keyword === 'enum' && e.propertyName !== undefined))
    .map((e) => `${fieldPath(e) || '(top level)'}: ${describe(e)}`);
  return [...new Set(lines)];
}
