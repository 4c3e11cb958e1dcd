/** Set from package.json by esbuild (build.mjs) and vitest (vitest.config.ts). */
declare const __S3SCAN_VERSION__: string;

/**
 * The s3scan version, from package.json, for every host: the CLI, the Lambdas (inlined into
 * each bundle at build time, so no package.json needs to ship) and the evidence and exports
 * they write.
 */
export const TOOL_VERSION: string = __S3SCAN_VERSION__;
