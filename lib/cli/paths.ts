import { fileURLToPath } from 'node:url';

// Resolved from this module, which sits at the same depth in lib/cli/ and (bundled) dist/cli/.
/** The bundled demo account's evidence. */
export const DEMO_EVIDENCE = fileURLToPath(
  new URL('../../demo/demo-account.json', import.meta.url),
);
/** The same account a day earlier: the demo's previous scan, so drift has something to show. */
export const DEMO_PREVIOUS_EVIDENCE = fileURLToPath(
  new URL('../../demo/demo-account-previous.json', import.meta.url),
);
/** The bundled demo config (a suppression, a severity override, an allowed key). */
export const DEMO_CONFIG = fileURLToPath(new URL('../../demo/s3scan.config.yml', import.meta.url));
/** The report store folder when `--store` is not given. */
export const DEFAULT_STORE = 's3scan-reports';
/** The built dashboard page (`node build.mjs` writes it). */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));
