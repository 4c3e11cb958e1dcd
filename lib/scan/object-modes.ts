/**
 * The object modes, declared once: what each reads, which stack `objectAccess` grants it, and
 * the one mapping from a mode and its options to the scan use case's object request. The
 * CLI (`--objects`), the config's `schedule.objects`, the invoke payloads and the stack's
 * defaults all go through here.
 */
import { OBJECT_MODES, type ObjectMode } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { ObjectRequest } from './run-scan.js';

export { OBJECT_MODES, type ObjectMode };

/** The stack's objectAccess: what its roles may read of object data. */
export const OBJECT_ACCESS = ['none', 'inventory', 'all'] as const;
export type ObjectAccess = (typeof OBJECT_ACCESS)[number];

/** The object modes each objectAccess grants the roles the reads for. */
const GRANTED: Record<ObjectAccess, readonly ObjectMode[]> = {
  none: ['none'],
  inventory: ['none', 'inventory'],
  all: OBJECT_MODES,
};

/** A mode named in a setting (`what` says which), or a ConfigError listing the modes. */
export function objectModeOf(
  value: string | undefined,
  fallback: ObjectMode,
  what: string,
): ObjectMode {
  if (value === undefined || value === '') return fallback;
  const mode = OBJECT_MODES.find((m) => m === value);
  if (!mode)
    throw new ConfigError(
      `${what} ${JSON.stringify(value)} is not one of ${OBJECT_MODES.join(', ')}`,
    );
  return mode;
}

/** OBJECT_ACCESS from the stack (serverless.yml objectAccess); `all` when unset. */
export function objectAccessOf(value: string | undefined): ObjectAccess {
  if (value === undefined || value === '') return 'all';
  const access = OBJECT_ACCESS.find((a) => a === value);
  if (!access)
    throw new ConfigError(
      `OBJECT_ACCESS ${JSON.stringify(value)} is not one of ${OBJECT_ACCESS.join(', ')}`,
    );
  return access;
}

/**
 * Refuses an object mode the stack's roles may not carry out, before any read: a stack
 * deployed with objectAccess none that swept objects would fill its report with AccessDenied
 * ERRORs. `asked` says where the mode came from.
 */
export function checkObjectMode(mode: ObjectMode, access: ObjectAccess, asked: string): void {
  if (GRANTED[access].includes(mode)) return;
  throw new ConfigError(
    `${asked} asks for objects ${mode}, but this stack was deployed with objectAccess ${access}: its roles may read objects in modes ${GRANTED[access].join(', ')} only (deploy with --param objectAccess=${mode === 'inventory' ? 'inventory' : 'all'} to grant it)`,
  );
}

/** The object part of a scan plan for a mode and its options: none for `none`. */
export function objectRequestOf(
  mode: ObjectMode,
  options: { versions?: boolean; sampleSize?: number; maxInventoryAgeDays?: number },
): { objects?: ObjectRequest } {
  if (mode === 'none') return {};
  return {
    objects: {
      mode,
      versions: options.versions === true,
      sampleSize: options.sampleSize ?? 100,
      maxInventoryAgeDays: options.maxInventoryAgeDays,
    },
  };
}
