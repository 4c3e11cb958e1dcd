#!/usr/bin/env node
// The bundled CLI (built by `npm ci` through the prepare script, or `npm run build`).
// The SDK's Node 20 end-of-support notice would print on every command; s3scan pins its SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runCli } = await import('../dist/cli/main.js');

process.exitCode = await runCli(process.argv.slice(2));
