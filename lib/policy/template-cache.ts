import { type AnalyzeOptions, analyzePolicySafely, type PolicyAnalysis } from './analyze.js';

/** Uppercase and underscores cannot occur in S3 bucket names, so this never names a real bucket. */
const TEMPLATE_BUCKET = 'S3SCAN_TEMPLATE_BUCKET';
const S3_ARN = /^arn:([^:]*):s3:::(.*)$/s;

type Outcome = { analysis: PolicyAnalysis } | { error: string };

/** Marks a template key whose policy must be analysed bucket by bucket. */
const UNSAFE = '';

/**
 * Rewrites the bucket's own ARNs in a policy to a placeholder bucket, so that buckets whose
 * policies differ only by their own name (the IaC norm) share one analysis. Returns undefined
 * when the rewrite could change a verdict: the name appears anywhere else, or an S3 ARN has a
 * wildcard in its bucket part (which may or may not match the real name).
 */
function templateOf(value: unknown, bucket: string, isPlaceholder: boolean): unknown | undefined {
  let safe = true;
  const rewrite = (node: unknown): unknown => {
    if (!safe) return undefined;
    if (typeof node === 'string') {
      const arn = S3_ARN.exec(node);
      if (arn) {
        const rest = arn[2] ?? '';
        if (rest === bucket || rest.startsWith(`${bucket}/`)) {
          const suffix = rest.slice(bucket.length);
          if (suffix.includes(bucket)) safe = false;
          return `arn:${arn[1]}:s3:::${TEMPLATE_BUCKET}${suffix}`;
        }
        const bucketPart = rest.split('/')[0] ?? '';
        if (/[*?]/.test(bucketPart) && bucketPart !== '*') safe = false;
      }
      if (node.includes(bucket) || (!isPlaceholder && node.includes(TEMPLATE_BUCKET))) safe = false;
      return node;
    }
    if (Array.isArray(node)) return node.map(rewrite);
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) {
        if (key.includes(bucket)) safe = false;
        out[key] = rewrite(child);
      }
      return out;
    }
    return node;
  };
  const template = rewrite(value);
  return safe ? template : undefined;
}

/**
 * Analyses bucket policies, sharing the work between buckets whose policies are the same but
 * for their own bucket name. The answer equals {@link analyzePolicySafely}'s, byte for byte.
 * One cache per evaluation: no state outlives it.
 */
export class PolicyAnalysisCache {
  /** The template's outcome as JSON text, ready for the bucket name to be put back. */
  private readonly cache = new Map<string, string>();

  public constructor(private readonly maxEntries = 2000) {}

  public analyze(policy: string, options: AnalyzeOptions & { partition: string }): Outcome {
    const { bucket } = options;
    // Fast path: the raw text with the name swapped out is the key; no parse unless it is new.
    // Escaped characters could hide the name from the swap, so such policies take the slow path.
    const fast =
      bucket.length >= 3 && !policy.includes('\\u')
        ? policy.split(bucket).join(TEMPLATE_BUCKET)
        : undefined;
    const fastKey =
      fast === undefined
        ? undefined
        : `${options.partition}\u0000${options.accountId ?? ''}\u0000${fast}`;
    let text = fastKey === undefined ? undefined : this.cache.get(fastKey);
    if (text === undefined && fast !== undefined && fastKey !== undefined) {
      text = this.fromTemplateText(fast, options) ?? UNSAFE;
      this.remember(fastKey, text);
    }
    if (text === undefined || text === UNSAFE) return this.slowPath(policy, options);
    return JSON.parse(
      text.split(TEMPLATE_BUCKET).join(JSON.stringify(bucket).slice(1, -1)),
    ) as Outcome;
  }

  /** Analyses a template text whose placeholder stands only in the bucket's own ARNs. */
  private fromTemplateText(text: string, options: AnalyzeOptions): string | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    // The placeholder is its own "bucket": a template is safe when rewriting it is a no-op.
    if (templateOf(parsed, TEMPLATE_BUCKET, true) === undefined) return undefined;
    return JSON.stringify(analyzePolicySafely(parsed, { ...options, bucket: TEMPLATE_BUCKET }));
  }

  private slowPath(policy: string, options: AnalyzeOptions & { partition: string }): Outcome {
    let parsed: unknown;
    try {
      parsed = JSON.parse(policy);
    } catch {
      return analyzePolicySafely(policy, options);
    }
    const template =
      options.bucket.length >= 3 ? templateOf(parsed, options.bucket, false) : undefined;
    if (template === undefined) return analyzePolicySafely(parsed, options);
    const key = `${options.partition}\u0000${options.accountId ?? ''}\u0000${JSON.stringify(template)}`;
    let text = this.cache.get(key);
    if (text === undefined || text === UNSAFE) {
      text = JSON.stringify(analyzePolicySafely(template, { ...options, bucket: TEMPLATE_BUCKET }));
      this.remember(key, text);
    }
    return JSON.parse(
      text.split(TEMPLATE_BUCKET).join(JSON.stringify(options.bucket).slice(1, -1)),
    ) as Outcome;
  }

  private remember(key: string, text: string): void {
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(key, text);
  }
}
