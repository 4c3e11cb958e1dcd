import {
  api,
  type BucketDetail,
  type Finding,
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
  );
}
