/**
 * The layering of s3scan (ARCHITECTURE.md, ../shared/DESIGN.md §2), enforced by
 * dependency-cruiser: `npm run check:layers`, run by `npm test`.
 *
 * Pipeline: collect -> evaluate (rules, policy, engine) -> store -> alert -> view; hosts
 * (cli, functions, step-functions) call the scan use case (lib/scan) and adapt its input and
 * output. Folders named in PURE judge evidence: no I/O, no SDK, no Node built-in.
 */
const PURE = '^lib/(rules|engine|policy|evidence|compliance|text)/';
const ADAPTERS = '^lib/(collect|report-store|alerts|aws)/';
/** Pure folders plus the exporters: formats are computed, never read or written here. */
const NO_NODE = '^lib/(rules|engine|policy|evidence|compliance|text|export)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (relative and #lib/* alike): a typo is not a layer.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      comment: 'No module imports itself back through others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Folders form a directed graph: the pipeline reads one way.',
      scope: 'folder',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'rules-only-engine-evidence-policy',
      severity: 'error',
      comment:
        'A rule is a pure function of evidence: it may use the engine types, the evidence and the policy analyzer, nothing else (not even a package).',
      from: { path: '^lib/rules/' },
      to: { pathNot: ['^lib/(rules|engine|evidence|policy)/'] },
    },
    {
      name: 'engine-knows-no-rule',
      severity: 'error',
      comment: 'The engine runs the rules its caller passes; it never imports the catalogue.',
      from: { path: '^lib/engine/' },
      to: { path: '^lib/rules/' },
    },
    {
      name: 'pure-imports-pure',
      severity: 'error',
      comment:
        'Evaluation folders import only evaluation folders, errors and validation: no collect, store, host or config.',
      from: { path: PURE },
      to: {
        path: '^lib/',
        pathNot: [PURE, '^lib/errors\\.ts$', '^lib/validation/'],
      },
    },
    {
      name: 'no-node-builtins-in-pure',
      severity: 'error',
      comment:
        'Evaluation runs anywhere JavaScript does (the dashboard page too): no node:* module. Globals such as Buffer and process are refused by Biome (biome.json).',
      from: { path: NO_NODE },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'sdk-only-in-adapters',
      severity: 'error',
      comment:
        'Only the adapter folders talk to AWS: @aws-sdk/* and @smithy/* stay in collect, report-store, alerts and aws.',
      from: { pathNot: ADAPTERS },
      to: { path: 'node_modules/(@aws-sdk|@smithy)/' },
    },
    {
      name: 'no-agpl-in-product',
      severity: 'error',
      comment:
        '@cloud-copilot/* is AGPL: a dev dependency for differential tests, never bundled into the product.',
      from: { path: '^(lib|functions)/' },
      to: { path: 'node_modules/@cloud-copilot/' },
    },
    {
      name: 'collect-does-not-judge',
      severity: 'error',
      comment: 'collect records what AWS said; judging is for rules, policy and engine.',
      from: { path: '^lib/collect/' },
      to: {
        path: '^lib/(rules|engine|policy|compliance|export|config|scan|cli|step-functions|dashboard)/',
      },
    },
    {
      name: 'store-does-not-collect',
      severity: 'error',
      comment: 'The report store keeps what a scan produced; it never reads the scanned account.',
      from: { path: '^lib/report-store/' },
      to: { path: '^lib/(collect|rules|scan|cli|step-functions|dashboard|alerts|history)/' },
    },
    {
      name: 'history-reads-the-store',
      severity: 'error',
      comment:
        'The scan history (drift, the previous view, the posture now) reads stored scans; alerts, the dashboard and the scan use case read it, never the other way.',
      from: { path: '^lib/history/' },
      to: { path: '^lib/(collect|rules|policy|scan|cli|step-functions|dashboard|alerts|aws)/' },
    },
    {
      name: 'view-reads-the-store',
      severity: 'error',
      comment: 'The dashboard reads reports; it neither collects nor evaluates.',
      from: { path: '^lib/dashboard/' },
      to: { path: '^lib/(collect|rules|policy|scan|cli|step-functions|aws)/' },
    },
    {
      name: 'hosts-stay-outside-lib',
      severity: 'error',
      comment: 'lib/ never imports a host (functions/), a test or a benchmark.',
      from: { path: '^lib/' },
      to: { path: '^(functions|tests|bench)/' },
    },
    {
      name: 'use-case-is-host-neutral',
      severity: 'error',
      comment: 'The scan use case serves every host; it imports none of them.',
      from: { path: '^lib/scan/' },
      to: { path: '^lib/(cli|step-functions|dashboard)/' },
    },
    {
      name: 'functions-are-independent',
      severity: 'error',
      comment: 'A Lambda handler imports lib/ and functions/common, never another handler.',
      from: { path: '^functions/[^/]+\\.ts$' },
      to: { path: '^functions/[^/]+\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // The package.json "imports" map (#lib/*) is resolved like a relative import.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
