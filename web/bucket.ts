import {
  api,
  type BucketDetail,
  type Finding,
  type FixHistory,
  type PostureMode,
  scanPath,
  withPosture,
} from './api.js';
import {
  bidi,
  byId,
  copyableCode,
  element,
  formatBytes,
  formatCount,
  hashLink,
  preformatted,
  severityBadge,
  statusBadge,
  table,
} from './dom.js';

/** Statement numbers the policy analyzer named as falling short (`statement #N (Sid …)`). */
function statementsNamed(findings: Finding[]): Map<number, string[]> {
  const named = new Map<number, string[]>();
  for (const f of findings) {
    if (f.status !== 'FAIL') continue;
    const gaps = (f.details as { gaps?: { closestStatement?: string | null; reason?: string }[] })
      .gaps;
    for (const gap of gaps ?? []) {
      const n = /statement #(\d+)/.exec(gap.closestStatement ?? '')?.[1];
      if (n === undefined) continue;
      const reasons = named.get(Number(n)) ?? [];
      reasons.push(`${f.ruleId}: ${gap.reason ?? ''}`);
      named.set(Number(n), reasons);
    }
  }
  return named;
}

/** Every reason the analyzer gave, statement or not (no policy at all, near misses). */
function gapsOf(findings: Finding[]): string[] {
  return findings.flatMap((f) =>
    f.status === 'FAIL'
      ? (
          (f.details as { gaps?: { reason?: string }[] }).gaps?.map(
            (g) => `${f.ruleId}: ${g.reason ?? ''}`,
          ) ?? []
        ).filter(Boolean)
      : [],
  );
}

/** A probe as recorded: the value, or why there is none (absent, denied, failed). */
function probeText(probe: unknown): { value?: unknown; note?: string } {
  const p = probe as Record<string, unknown> | undefined;
  if (!p) return { note: 'not read' };
  if ('ok' in p) return { value: p.ok };
  if ('absent' in p) return { note: `none (${String(p.absent)})` };
  if ('denied' in p) return { note: `access denied: ${JSON.stringify(p.denied)}` };
  return { note: `the read failed: ${JSON.stringify(p.failed ?? p)}` };
}

function policySection(detail: BucketDetail): HTMLElement {
  const section = element('section');
  section.append(element('h3', 'Bucket policy'));
  const probe = probeText(detail.evidence?.bucket.policy);
  if (typeof probe.value !== 'string') {
    section.append(element('p', `Policy: ${probe.note ?? 'not a string'}`));
    return section;
  }
  const named = statementsNamed(detail.findings);
  let statements: unknown[];
  try {
    const parsed = JSON.parse(probe.value) as { Statement?: unknown };
    statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  } catch {
    section.append(element('p', 'The policy text is not JSON; shown as AWS returned it.'));
    section.append(preformatted(probe.value));
    return section;
  }
  const list = element('ol', undefined, 'statements');
  list.start = 0;
  statements.forEach((statement, i) => {
    const item = element('li');
    const sid = (statement as { Sid?: unknown } | undefined)?.Sid;
    const reasons = named.get(i);
    item.append(
      element(
        'p',
        `Statement #${i}${typeof sid === 'string' ? ` (Sid ${JSON.stringify(sid)})` : ''}${reasons ? ': falls short' : ''}`,
        'statement-title',
      ),
    );
    if (reasons) {
      item.className = 'falls-short';
      const why = element('ul');
      why.append(...reasons.map((r) => element('li', r)));
      item.append(why);
    }
    item.append(preformatted(JSON.stringify(statement, null, 2)));
    list.append(item);
  });
  section.append(list);
  const gaps = gapsOf(detail.findings).filter((g) => !/statement #\d+/.test(g));
  if (gaps.length > 0) {
    section.append(element('h4', 'What the policy leaves open'));
    const ul = element('ul');
    ul.append(...gaps.map((g) => element('li', g)));
    section.append(ul);
  }
  return section;
}

function encryptionSection(detail: BucketDetail): HTMLElement {
  const section = element('section');
  section.append(element('h3', 'Default encryption'));
  const probe = probeText(detail.evidence?.bucket.encryption);
  section.append(
    probe.value !== undefined
      ? preformatted(JSON.stringify(probe.value, null, 2))
      : element('p', probe.note ?? ''),
  );
  const keys = Object.values(detail.evidence?.kmsKeys ?? {});
  if (keys.length > 0) {
    section.append(element('h4', 'KMS keys'));
    section.append(
      table(
        ['Key', 'State', 'Manager', 'Rotation'],
        keys.map((key) => {
          const describe = probeText(key.describe);
          const meta = describe.value as
            | { KeyState?: string; KeyManager?: string; DeletionDate?: string }
            | undefined;
          const rotation = probeText(key.rotation);
          const rotated = rotation.value as { KeyRotationEnabled?: boolean } | undefined;
          return [
            bidi(key.ref),
            meta
              ? `${meta.KeyState ?? 'unknown'}${meta.DeletionDate ? ` (deletion ${meta.DeletionDate})` : ''}`
              : (describe.note ?? ''),
            meta?.KeyManager ?? '',
            rotated ? (rotated.KeyRotationEnabled ? 'on' : 'off') : (rotation.note ?? ''),
          ];
        }),
      ),
    );
  }
  return section;
}

function objectsSection(detail: BucketDetail): HTMLElement {
  const section = element('section');
  section.append(element('h3', 'Objects by encryption'));
  const objects = detail.evidence?.bucket.objects;
  if (!objects) {
    section.append(element('p', 'Objects were not scanned for this bucket.'));
    return section;
  }
  section.append(
    element(
      'p',
      `Mode ${objects.mode}; ${formatCount(objects.classified)} of ${formatCount(objects.listed)} listed objects classified${objects.complete ? '' : ' (incomplete)'}.`,
    ),
  );
  const types = new Set([
    ...Object.keys(objects.byEncryption),
    ...Object.keys(objects.noncurrentByEncryption),
  ]);
  section.append(
    table(
      ['Encryption', 'Current', 'Noncurrent', 'Bytes'],
      [...types].sort().map((type) => {
        const current = objects.byEncryption[type as keyof typeof objects.byEncryption];
        const old = objects.noncurrentByEncryption[type as keyof typeof objects.byEncryption];
        return [
          type,
          formatCount(current?.count ?? 0),
          formatCount(old?.count ?? 0),
          formatBytes((current?.bytes ?? 0) + (old?.bytes ?? 0)),
        ];
      }),
    ),
  );
  return section;
}

function remediationSection(detail: BucketDetail): HTMLElement {
  const section = element('section');
  section.append(element('h3', 'How to fix'));
  const failing = new Set(
    detail.findings.filter((f) => f.status === 'FAIL' || f.status === 'ERROR').map((f) => f.ruleId),
  );
  const rules = detail.rules.filter((r) => failing.has(r.id));
  if (rules.length === 0) section.append(element('p', 'Nothing to fix: no rule fails here.'));
  for (const rule of rules) {
    const article = element('article', undefined, 'remedy');
    article.append(element('h4', rule.title), element('p', rule.remediation.text));
    article.append(copyableCode(`AWS CLI for ${rule.id}`, rule.remediation.cli));
    article.append(copyableCode(`CloudFormation for ${rule.id}`, rule.remediation.cloudformation));
    if (rule.requirements.length > 0)
      article.append(element('p', `Requirements: ${rule.requirements.join(', ')}`, 'muted'));
    section.append(article);
  }
  return section;
}

/** How a fix stands, as a badge: proven is PASS's colour, failed or refused FAIL's. */
const FIX_STATE_CLASS: Record<string, string> = {
  proven: 'PASS',
  'not proven': 'FAIL',
  failed: 'FAIL',
  refused: 'ERROR',
  interrupted: 'ERROR',
  undone: 'SKIPPED',
  planned: 'SKIPPED',
  'dry run': 'SKIPPED',
};

/** A `+`/`-` line of a statement, spread over lines as the policy section shows statements. */
function readableLine(line: string): string {
  const mark = line.slice(0, 2);
  try {
    const value = JSON.parse(line.slice(2)) as unknown;
    if (value === null || typeof value !== 'object') return line;
    return JSON.stringify(value, null, 2)
      .split('\n')
      .map((l) => `${mark}${l}`)
      .join('\n');
  } catch {
    return line;
  }
}

/** What one run did, in words: the status, why, and the verdict the rescan gave. */
function runResult(run: FixHistory['fixes'][number]['runs'][number]): string {
  const verdict = run.verdict
    ? ` → ${run.verdict.status}${run.verdict.status === 'PASS' ? ' (proven by the rescan)' : `: ${run.verdict.message}`}`
    : '';
  return `${run.status}${run.reason ? ` (${run.reason})` : ''}${verdict}`;
}

/** A bucket's fixes: each plan, what it changes, every run since, and the command that goes on. */
function fixesSection(history: FixHistory, bucket: string): HTMLElement {
  const section = element('section', undefined, 'fixes');
  section.append(element('h3', 'Fixes'));
  if (history.fixes.length === 0 && history.jobs.length === 0) {
    section.append(element('p', 'No fix of this bucket is on record.'));
    section.append(copyableCode('Plan one', `s3scan fix --bucket ${bucket}`));
  }
  const article = (fix: FixHistory['fixes'][number]) => {
    const node = element('article', undefined, 'fix');
    const head = element('h4');
    head.append(
      element('span', fix.rule, 'rule-id'),
      ' ',
      element('span', fix.state, `badge ${FIX_STATE_CLASS[fix.state] ?? 'SKIPPED'}`),
    );
    node.append(
      head,
      element(
        'p',
        `${fix.automatic ? 'Automatic fix' : 'Fix'} ${fix.fixId}, planned ${fix.createdAt} from scan ${fix.scanId}: ${fix.change}.`,
        'muted',
      ),
    );
    if (fix.diff.length > 0) node.append(preformatted(fix.diff.map(readableLine).join('\n')));
    if (fix.runs.length > 0)
      node.append(
        table(
          ['When', 'Action', 'Who', 'Result'],
          fix.runs.map((run) => [run.at, run.mode, run.by ? bidi(run.by) : '', runResult(run)]),
        ),
      );
    node.append(
      copyableCode(
        fix.state === 'planned' ||
          fix.state === 'dry run' ||
          fix.state === 'refused' ||
          fix.state === 'failed' ||
          fix.state === 'undone'
          ? 'Apply a fresh plan'
          : 'Undo it',
        fix.next,
      ),
    );
    return node;
  };
  const shown = history.fixes.slice(0, 3);
  section.append(...shown.map(article));
  if (history.fixes.length > shown.length) {
    const more = element('details');
    more.append(element('summary', `${history.fixes.length - shown.length} earlier fix(es)`));
    more.append(...history.fixes.slice(shown.length).map(article));
    section.append(more);
  }
  if (history.jobs.length > 0) {
    section.append(element('h4', 'Object jobs (S3 Batch Operations)'));
    section.append(
      table(
        ['Fix', 'Operation', 'Objects', 'Job', 'Status'],
        history.jobs.map((job) => [
          job.fixId,
          job.operation,
          formatCount(job.objects),
          job.jobId ?? '',
          `${job.status}${job.reason ? ` (${job.reason})` : ''}`,
        ]),
      ),
    );
  }
  if (history.unreadable.length > 0)
    section.append(
      element('p', `Fix records that could not be read: ${history.unreadable.join(', ')}`, 'ERROR'),
    );
  return section;
}

/** The fixes section, loaded after the bucket: a failure there never hides the verdicts. */
async function loadFixes(holder: HTMLElement, bucket: string, account: string): Promise<void> {
  const query = new URLSearchParams({ bucket, account });
  try {
    holder.replaceWith(fixesSection(await api<FixHistory>(`/fixes?${query}`), bucket));
  } catch (error) {
    holder.replaceChildren(
      element('h3', 'Fixes'),
      element('p', `The fix history could not be read: ${(error as Error).message}`, 'ERROR'),
    );
  }
}

/** The bucket view: every rule's verdict, the evidence AWS returned, and how to fix it. */
export async function showBucket(
  scanId: string,
  params: URLSearchParams,
  posture: PostureMode,
): Promise<void> {
  const name = params.get('name') ?? '';
  const query = new URLSearchParams();
  for (const key of ['account', 'region']) {
    const value = params.get(key);
    if (value) query.set(key, value);
  }
  const view = byId('bucket-view');
  const detail = await api<BucketDetail>(
    `${scanPath(scanId, `buckets/${encodeURIComponent(name)}`)}?${withPosture(posture, query)}`,
  );
  const title = element('h2');
  title.append('Bucket ', bidi(detail.bucket.name));
  const requirements = new Map(detail.rules.map((r) => [r.id, r.requirements]));
  // Each requirement id whole (they wrap between ids, never at an id's own hyphens).
  const requirementList = (ids: readonly string[] = []) => {
    // None: an empty cell, which a phone-width card leaves out.
    if (ids.length === 0) return '';
    const cell = element('span');
    ids.forEach((id, i) => {
      cell.append(...(i > 0 ? [', '] : []), element('span', id, 'rule-id'));
    });
    return cell;
  };
  const fixesHolder = element('section', undefined, 'fixes');
  fixesHolder.append(element('h3', 'Fixes'), element('p', 'Reading the fix history…', 'muted'));
  const order = ['FAIL', 'ERROR', 'PASS', 'SKIPPED'];
  const verdicts = [...detail.findings].sort(
    (a, b) => order.indexOf(a.status) - order.indexOf(b.status),
  );
  view.replaceChildren(
    hashLink({ scan: scanId }, '← Dashboard'),
    title,
    element(
      'p',
      `Account ${detail.bucket.account} · ${detail.bucket.region} · ${
        detail.seenIn
          ? `as rescan ${detail.seenIn.scanId} saw it at ${detail.seenIn.scanTime} (after scan ${scanId})`
          : scanId === 'latest'
            ? 'the latest scan'
            : `scan ${scanId}`
      }`,
      'muted',
    ),
    table(
      ['Status', 'Severity', 'Rule', 'Why', 'Requirements'],
      verdicts.map((f) => [
        statusBadge(f.status, f.assurance),
        severityBadge(f.severity),
        element('span', f.ruleId, 'rule-id'),
        f.message,
        requirementList(requirements.get(f.ruleId)),
      ]),
      'Every rule’s verdict',
    ),
    ...(detail.evidenceError ? [element('p', detail.evidenceError, 'ERROR')] : []),
    policySection(detail),
    encryptionSection(detail),
    objectsSection(detail),
    remediationSection(detail),
    fixesHolder,
  );
  await loadFixes(fixesHolder, detail.bucket.name, detail.bucket.account);
}
