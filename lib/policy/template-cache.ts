import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import { utf8ByteLength } from '../text/utf8.js';
import {
  type AnalyzeOptions,
  analyzePolicySafely,
  type PolicyAnalysis,
  type PolicyLayerDocument,
} from './analyze.js';
import { MAX_POLICY_BYTES, nestsTooDeep } from './parse.js';

/** Uppercase and underscores cannot occur in S3 bucket names, so this never names a real bucket. */
const TEMPLATE_BUCKET = 'S3SCAN_TEMPLATE_BUCKET';

/** Whether the policy's template (the bucket's name swapped for the placeholder) could be over the size limit. */
function templateMayOverflow(policy: string, bucket: string): boolean {
  const growth = TEMPLATE_BUCKET.length - bucket.length;
  if (growth <= 0 || bucket.length === 0) return false;
  const names = policy.split(bucket).length - 1;
  return utf8ByteLength(policy) + growth * names > MAX_POLICY_BYTES;
}
const S3_ARN = /^arn:([^:]*):s3:::(.*)$/s;

type Outcome = { analysis: PolicyAnalysis } | { error: string };

/** Marks a template key whose policy must be analysed bucket by bucket. */
const UNSAFE = 'unsafe';

/**
 * The template's outcome with the real bucket name put back. Only gap resources and reasons
 * can name the bucket (a template is unsafe if the name appears anywhere else), so the rest is
 * shared as it is: findings never modify it.
 */
function forBucket(outcome: Outcome, bucket: string): Outcome {
  if (!('analysis' in outcome)) return outcome;
  const swap = (text: string) =>
    text.includes(TEMPLATE_BUCKET) ? text.split(TEMPLATE_BUCKET).join(bucket) : text;
  const { analysis } = outcome;
  if (analysis.gaps.length === 0) return outcome;
  return {
    analysis: {
      ...analysis,
      gaps: analysis.gaps.map((gap) => ({
        ...gap,
        resources: gap.resources.map(swap),
        reason: swap(gap.reason),
        ...(gap.closestStatement ? { closestStatement: swap(gap.closestStatement) } : {}),
      })),
    },
  };
}

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
  /** The outcome for the placeholder bucket, or UNSAFE for templates that must not be shared. */
  private readonly cache: LRUCache<string, Outcome | typeof UNSAFE>;
  private readonly layerKeys = new WeakMap<readonly PolicyLayerDocument[], string>();

  public constructor(maxEntries = 2000) {
    this.cache = new LRUCache({ maxSize: maxEntries });
  }

  /**
   * `policy` undefined: the bucket has no policy and only `options.layers` can deny. Layers
   * are part of every key; layers that name the bucket are never shared between buckets.
   */
  public analyze(
    policy: string | undefined,
    options: AnalyzeOptions & { partition: string },
  ): Outcome {
    const { bucket } = options;
    // Too deep to be a policy: refused as `s3scan policy` refuses it, before any parse or
    // template walk (which would otherwise exhaust the stack).
    if (policy !== undefined && nestsTooDeep(policy)) return analyzePolicySafely(policy, options);
    // The placeholder is longer than most names: near AWS's size limit the template of a real
    // policy could exceed it and be refused as "cannot be one". Such a policy is analysed as is.
    if (policy !== undefined && templateMayOverflow(policy, bucket))
      return analyzePolicySafely(policy, options);
    const layersKey = this.keyOf(options.layers);
    if (layersKey !== '' && (bucket.length < 3 || layersKey.includes(bucket)))
      return analyzePolicySafely(policy, options);
    if (policy === undefined) {
      const key = `absent\u0000${options.partition}\u0000${options.accountId ?? ''}\u0000${layersKey}`;
      let shared = this.cache.get(key);
      if (shared === undefined || shared === UNSAFE) {
        shared = analyzePolicySafely(undefined, { ...options, bucket: TEMPLATE_BUCKET });
        this.remember(key, shared);
      }
      return forBucket(shared, bucket);
    }
    // Fast path: the raw text with the name swapped out is the key; no parse unless it is new.
    // Escaped characters could hide the name from the swap, so such policies take the slow path.
    const fast =
      bucket.length >= 3 && !policy.includes('\\u')
        ? policy.split(bucket).join(TEMPLATE_BUCKET)
        : undefined;
    if (fast === undefined) return this.slowPath(policy, options);
    const fastKey = `${options.partition}\u0000${options.accountId ?? ''}\u0000${layersKey}\u0000${fast}`;
    let shared = this.cache.get(fastKey);
    if (shared === undefined) {
      shared = this.fromTemplateText(fast, options) ?? UNSAFE;
      this.remember(fastKey, shared);
    }
    return shared === UNSAFE ? this.slowPath(policy, options) : forBucket(shared, bucket);
  }

  /** Analyses a template text whose placeholder stands only in the bucket's own ARNs. */
  private fromTemplateText(text: string, options: AnalyzeOptions): Outcome | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    // The placeholder is its own "bucket": a template is safe when rewriting it is a no-op.
    if (templateOf(parsed, TEMPLATE_BUCKET, true) === undefined) return undefined;
    return analyzePolicySafely(parsed, { ...options, bucket: TEMPLATE_BUCKET });
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
    const key = `${options.partition}\u0000${options.accountId ?? ''}\u0000${this.keyOf(options.layers)}\u0000${JSON.stringify(template)}`;
    let shared = this.cache.get(key);
    if (shared === undefined || shared === UNSAFE) {
      shared = analyzePolicySafely(template, { ...options, bucket: TEMPLATE_BUCKET });
      this.remember(key, shared);
    }
    return forBucket(shared, options.bucket);
  }

  /** The layers as part of a key, serialised once per array (the engine shares them per account). */
  private keyOf(layers: AnalyzeOptions['layers']): string {
    if (!layers?.length) return '';
    let key = this.layerKeys.get(layers);
    if (key === undefined) {
      key = JSON.stringify(layers);
      this.layerKeys.set(layers, key);
    }
    return key;
  }

  private remember(key: string, outcome: Outcome | typeof UNSAFE): void {
    this.cache.add(key, outcome);
  }
}
