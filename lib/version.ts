/** Set from package.json by esbuild (build.mjs) and vitest (vitest.config.ts). */
declare const __S3SCAN_VERSION__: string | undefined;

/**
 * The s3scan version, from package.json, for every host: the CLI, the Lambdas (inlined into
 * each bundle at build time, so no package.json needs to ship) and the evidence and exports
 * they write. Source run without a build step (e.g. through tsx) says so instead of guessing.
 */
export const TOOL_VERSION: string =
  typeof __S3SCAN_VERSION__ === 'string' ? __S3SCAN_VERSION__ : '0.0.0-unbuilt';
