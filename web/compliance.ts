import { api, type Compliance, type PostureMode, scanPath, withPosture } from './api.js';
import { byId, element, formatCount, hashLink, statusBadge, table } from './dom.js';

/** Compliance per framework: each requirement's verdict, counts and a link to its findings. */
export async function showCompliance(scanId: string, posture: PostureMode): Promise<void> {
  const compliance = await api<Compliance>(
    `${scanPath(scanId, 'compliance')}?${withPosture(posture)}`,
  );
  const view = byId('compliance-view');
  view.replaceChildren(
    element('h2', 'Compliance'),
    element(
      'p',
      `${compliance.shows === 'now' ? `The posture now: scan ${compliance.scanId} with each bucket rescanned since as its newest rescan saw it.` : `Scan ${compliance.scanId}.`} A requirement fails when any finding behind it fails, and is ERROR when one could not be verified.`,
      'muted',
    ),
    ...compliance.frameworks.map((framework) => {
      const section = element('section');
      section.dataset.framework = framework.id;
      const passed = framework.requirements.filter((r) => r.verdict === 'PASS').length;
      section.append(
        element('h3', `${framework.name} ${framework.version}`),
        element('p', `${passed} of ${framework.requirements.length} requirements pass.`),
        table(
          ['Requirement', 'Verdict', 'FAIL', 'ERROR', 'PASS', 'Findings'],
          framework.requirements.map((r) => {
            const label = element('span');
            label.append(element('strong', r.id), ` ${r.title}`);
            return [
              label,
              statusBadge(r.verdict),
              formatCount(r.counts.FAIL),
              formatCount(r.counts.ERROR),
              formatCount(r.counts.PASS),
              hashLink(
                { scan: scanId, status: 'FAIL,ERROR', rule: r.rules.join(',') },
                `${r.rules.length} rule(s)`,
              ),
            ];
          }),
        ),
      );
      return section;
    }),
  );
}
