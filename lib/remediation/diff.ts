import type { BucketFix } from './plan.js';

/** The setting's change as `-`/`+` lines: the statements removed and added, or the members set. */
export function settingDiff(fix: Pick<BucketFix, 'setting' | 'before' | 'after'>): string[] {
  if (fix.setting === 'bucket policy') {
    const before = statementsOf(fix.before).map((s) => JSON.stringify(s));
    const after = statementsOf(fix.after).map((s) => JSON.stringify(s));
    return [
      ...before.filter((s) => !after.includes(s)).map((s) => `- ${s}`),
      ...after.filter((s) => !before.includes(s)).map((s) => `+ ${s}`),
    ];
  }
  // Default encryption: its one rule's members; key rotation: the rotation status itself.
  const members = (setting: unknown): Record<string, unknown> =>
    fix.setting === 'default encryption'
      ? (((setting as { Rules?: Record<string, unknown>[] } | null)?.Rules ?? [])[0] ?? {})
      : ((setting as Record<string, unknown> | null) ?? {});
  const before = members(fix.before);
  const after = members(fix.after);
  return Object.keys(after)
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .flatMap((k) => [
      ...(before[k] === undefined ? [] : [`- ${k}: ${JSON.stringify(before[k])}`]),
      `+ ${k}: ${JSON.stringify(after[k])}`,
    ]);
}

function statementsOf(policy: unknown): unknown[] {
  const statement = (policy as { Statement?: unknown } | null)?.Statement;
  return Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
}
