import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatchAlerts, MAX_BATCH_ATTEMPTS } from '../../../lib/alerts/dispatch.js';
import type {
  AlertBatch,
  AlertDigest,
  AlertSink,
  BatchOutcome,
  EntryFailure,
} from '../../../lib/alerts/sink.js';
import { diffScans } from '../../../lib/history/drift.js';
import { LocalAlertLedger } from '../../../lib/report-store/alert-ledger.js';
import { ACCOUNT, finding } from '../../helpers/findings.js';

const digest: AlertDigest = {
  account: ACCOUNT,
  drift: diffScans(
    { scanId: 's1', scanTime: '2026-11-01T00:00:00Z', findings: [] },
    { scanId: 's2', scanTime: '2026-11-02T00:00:00Z', findings: [finding('r', 'a', 'FAIL')] },
    { accountId: ACCOUNT, buckets: [], regions: [] },
  ),
};

/**
 * A sink of `size` entries in batches of `per`, recording every entry it was handed; `fail`
 * decides, per entry and call number, whether (and how) the far end refuses it.
 */
class RecordingSink implements AlertSink<string> {
  public readonly received: string[] = [];
  private calls = 0;
  public constructor(
    public readonly name: string,
    private readonly size: number,
    private readonly per: number,
    private readonly fail: (id: string, call: number) => EntryFailure['kind'] | undefined = () =>
      undefined,
    public readonly idempotent = false,
    private readonly throwOn?: (call: number) => boolean,
  ) {}

  public plan(): AlertBatch<string>[] {
    const ids = Array.from({ length: this.size }, (_, i) => `m${i}`);
    const batches: AlertBatch<string>[] = [];
    for (let i = 0; i < ids.length; i += this.per)
      batches.push({
        id: `b${i / this.per}`,
        entries: ids.slice(i, i + this.per).map((id) => ({ id, payload: id })),
      });
    return batches;
  }

  public preview(entry: { id: string }): string {
    return `${this.name} ${entry.id}`;
  }

  public async deliver(batch: AlertBatch<string>): Promise<BatchOutcome> {
    this.calls += 1;
    if (this.throwOn?.(this.calls)) throw new Error('socket hang up');
    const outcome: BatchOutcome = { delivered: [], failed: [] };
    for (const entry of batch.entries) {
      const kind = this.fail(entry.id, this.calls);
      if (kind) outcome.failed.push({ id: entry.id, code: 'X', reason: 'refused', kind });
      else {
        this.received.push(entry.id);
        outcome.delivered.push(entry.id);
      }
    }
    return outcome;
  }
}

async function ledger() {
  return new LocalAlertLedger(await mkdtemp(join(tmpdir(), 's3scan-ledger-')));
}

describe('dispatchAlerts: exactly once per entry, through the ledger', () => {
  it('sends every entry once, and a second run sends nothing', async () => {
    // Prepare
    const store = await ledger();
    const sink = new RecordingSink('one', 25, 10);

    // Act
    const first = await dispatchAlerts('s2', digest, [sink], store);
    const second = await dispatchAlerts('s2', digest, [sink], store);

    // Assess
    expect(sink.received).toHaveLength(25);
    expect(new Set(sink.received).size).toBe(25);
    expect(first.sinks[0]).toMatchObject({ status: 'sent', planned: 25, sent: 25, alreadySent: 0 });
    expect(second.sinks[0]).toMatchObject({ status: 'sent', sent: 0, alreadySent: 25 });
    expect(second.ok).toBe(true);
  });

  it('re-sends only what was refused for a passing reason; permanent refusals are reported, not resent', async () => {
    // Prepare: m1 throttled on the first call only, m2 refused for good.
    const store = await ledger();
    const sink = new RecordingSink('one', 4, 4, (id, call) =>
      id === 'm1' && call === 1 ? 'retry' : id === 'm2' ? 'permanent' : undefined,
    );

    // Act
    const first = await dispatchAlerts('s2', digest, [sink], store);
    const second = await dispatchAlerts('s2', digest, [sink], store);
    const third = await dispatchAlerts('s2', digest, [sink], store);

    // Assess
    expect(first.sinks[0]).toMatchObject({ status: 'partial', sent: 2 });
    expect(first.sinks[0]?.failed.map((f) => [f.id, f.kind])).toEqual([
      ['m1', 'retry'],
      ['m2', 'permanent'],
    ]);
    expect(second.sinks[0]).toMatchObject({ sent: 1, alreadySent: 2 });
    expect(second.sinks[0]?.failed.map((f) => f.id)).toEqual(['m2']);
    expect(third.sinks[0]).toMatchObject({ sent: 0, alreadySent: 3 });
    expect(sink.received.sort()).toEqual(['m0', 'm1', 'm3']);
  });

  it('never re-sends an entry in doubt to a sink that is not idempotent; an idempotent one gets it again', async () => {
    // Prepare: the first call dies after the request left (a reset): in doubt.
    const store = await ledger();
    const once = new RecordingSink('slack', 1, 1, undefined, false, (call) => call === 1);
    const again = new RecordingSink('securityhub', 1, 1, undefined, true, (call) => call === 1);

    // Act
    const first = await dispatchAlerts('s2', digest, [once, again], store);
    const second = await dispatchAlerts('s2', digest, [once, again], store);

    // Assess
    expect(first.sinks.map((s) => s.failed[0]?.kind)).toEqual(['in-doubt', 'in-doubt']);
    expect(once.received).toEqual([]);
    expect(second.sinks[0]?.failed[0]).toMatchObject({ kind: 'in-doubt', code: 'sink-error' });
    expect(again.received).toEqual(['m0']);
    expect(second.sinks[1]).toMatchObject({ status: 'sent', sent: 1 });
  });

  it('a claim recorded as sending and never answered (killed mid-call) is in doubt; --resend-in-doubt sends it once more', async () => {
    // Prepare: a run claimed the batch, marked it sending, and died before the answer.
    const store = await ledger();
    await store.create('s2', 'slack/b0.1.claim', { at: '2026-11-02T00:00:01Z', entries: ['m0'] });
    await store.write('s2', 'slack/b0.1.sending', { at: '2026-11-02T00:00:01Z' });
    const sink = new RecordingSink('slack', 1, 1);

    // Act
    const report = await dispatchAlerts('s2', digest, [sink], store);
    const other = await dispatchAlerts('s2', digest, [sink], store, {
      resendInDoubt: new Set(['sns']),
    });
    const resent = await dispatchAlerts('s2', digest, [sink], store, {
      resendInDoubt: new Set(['slack']),
    });
    const after = await dispatchAlerts('s2', digest, [sink], store, {
      resendInDoubt: new Set(['*']),
    });

    // Assess
    expect(report.sinks[0]?.failed[0]).toMatchObject({
      id: 'm0',
      kind: 'in-doubt',
      code: 'interrupted',
      reason: expect.stringMatching(/--resend-in-doubt/),
    });
    expect(report.ok).toBe(false);
    expect(other.ok).toBe(false);
    expect(resent.sinks[0]).toMatchObject({ status: 'sent', sent: 1 });
    expect(after.sinks[0]).toMatchObject({ sent: 0, alreadySent: 1 });
    expect(sink.received).toEqual(['m0']);
  });

  it('a claim the run never sent (killed between claim and request) is sent by the next run', async () => {
    // Prepare: claimed, no `sending` record: nothing left this machine.
    const store = await ledger();
    await store.create('s2', 'slack/b0.1.claim', { at: '2026-11-02T00:00:01Z', entries: ['m0'] });
    const sink = new RecordingSink('slack', 1, 1);

    // Act
    const report = await dispatchAlerts('s2', digest, [sink], store);
    const again = await dispatchAlerts('s2', digest, [sink], store);

    // Assess
    expect(report.sinks[0]).toMatchObject({ status: 'sent', sent: 1 });
    expect(report.ok).toBe(true);
    expect(again.sinks[0]).toMatchObject({ sent: 0, alreadySent: 1 });
    expect(sink.received).toEqual(['m0']);
  });

  it('a fresh claim without sending is another run between its two writes: not sent again until that run is gone', async () => {
    // Prepare: a claim made a moment ago by a live process (this one), one by a process that
    // is gone, on this host.
    const { hostname } = await import('node:os');
    const now = new Date().toISOString();
    const store = await ledger();
    await store.create('s2', 'slack/b0.1.claim', {
      at: now,
      entries: ['m0'],
      host: hostname(),
      pid: process.pid,
    });
    const gone = await ledger();
    await gone.create('s2', 'slack/b0.1.claim', {
      at: now,
      entries: ['m0'],
      host: hostname(),
      pid: 999_999,
    });
    const live = new RecordingSink('slack', 1, 1);
    const after = new RecordingSink('slack', 1, 1);

    // Act
    const waiting = await dispatchAlerts('s2', digest, [live], store);
    const taken = await dispatchAlerts('s2', digest, [after], gone);

    // Assess
    expect(live.received).toEqual([]);
    expect(waiting.sinks[0]?.failed[0]).toMatchObject({
      code: 'claimed-elsewhere',
      kind: 'in-doubt',
    });
    expect(after.received).toEqual(['m0']);
    expect(taken.ok).toBe(true);
  });

  it('two runs racing for the same batch: the conditional claim lets exactly one send', async () => {
    // Prepare
    const store = await ledger();
    const sink = new RecordingSink('sns', 10, 10);

    // Act
    const reports = await Promise.all([
      dispatchAlerts('s2', digest, [sink], store),
      dispatchAlerts('s2', digest, [sink], store),
    ]);

    // Assess
    expect(sink.received).toHaveLength(10);
    expect(reports.map((r) => r.sinks[0]?.sent).sort()).toEqual([0, 10]);
  });

  it('a sink that fails never stops the others, and the outcome names it', async () => {
    // Prepare
    const store = await ledger();
    const broken: AlertSink = {
      name: 'broken',
      idempotent: false,
      plan: () => {
        throw new Error('alerts.sns.topicArn is in another partition');
      },
      deliver: async () => ({ delivered: [], failed: [] }),
      preview: () => '',
    };
    const fine = new RecordingSink('fine', 3, 3);

    // Act
    const report = await dispatchAlerts('s2', digest, [broken, fine], store);

    // Assess
    expect(report.sinks[0]).toMatchObject({ sink: 'broken', status: 'failed' });
    expect(report.sinks[0]?.error).toContain('another partition');
    expect(report.sinks[1]).toMatchObject({ sink: 'fine', status: 'sent', sent: 3 });
    expect(report.ok).toBe(false);
    const outcome = JSON.parse(
      await readFile(join(store.describe('s2'), 'outcome.json'), 'utf8'),
    ) as { sinks: { sink: string; deliveredIds?: unknown }[] };
    expect(outcome.sinks.map((s) => s.sink)).toEqual(['broken', 'fine']);
    expect(outcome.sinks[1]).not.toHaveProperty('deliveredIds');
  });

  it('a dry run previews what would be sent and writes nothing', async () => {
    // Prepare
    const store = await ledger();
    const sink = new RecordingSink('one', 3, 2);

    // Act
    const report = await dispatchAlerts('s2', digest, [sink], store, { dryRun: true });

    // Assess
    expect(report.sinks[0]).toMatchObject({ status: 'dry-run', sent: 0 });
    expect(report.sinks[0]?.preview).toEqual(['one m0', 'one m1', 'one m2']);
    expect(sink.received).toEqual([]);
    expect(await store.list('s2')).toEqual([]);
  });

  it(`gives a batch up after ${MAX_BATCH_ATTEMPTS} attempts that kept being throttled`, async () => {
    // Prepare
    const store = await ledger();
    const sink = new RecordingSink('one', 1, 1, () => 'retry');

    // Act
    for (let i = 0; i < MAX_BATCH_ATTEMPTS + 2; i++)
      await dispatchAlerts('s2', digest, [sink], store);
    const last = await dispatchAlerts('s2', digest, [sink], store);

    // Assess
    const claims = (await store.list('s2')).filter((n) => n.endsWith('.claim'));
    expect(claims).toHaveLength(MAX_BATCH_ATTEMPTS);
    expect(last.sinks[0]?.failed[0]).toMatchObject({ kind: 'retry' });
  });
});

describe('LocalAlertLedger', () => {
  it('create is exclusive, write replaces, list names every record, read returns what was written', async () => {
    // Prepare
    const store = await ledger();

    // Act
    const created = await store.create('s1', 'slack/digest.1.claim', { a: 1 });
    const again = await store.create('s1', 'slack/digest.1.claim', { a: 2 });
    await store.write('s1', 'state', { b: 1 });
    await store.write('s1', 'state', { b: 2 });

    // Assess
    expect([created, again]).toEqual([true, false]);
    expect(await store.read('s1', 'slack/digest.1.claim')).toEqual({ a: 1 });
    expect(await store.read('s1', 'state')).toEqual({ b: 2 });
    expect((await store.list('s1')).sort()).toEqual(['slack/digest.1.claim', 'state']);
    expect(await store.read('s1', 'missing')).toBeUndefined();
    expect(await store.list('other')).toEqual([]);
  });

  it('refuses record names that could leave the ledger folder', async () => {
    // Prepare
    const store = await ledger();

    // Act
    const error = await store.write('s1', '../index', {}).catch((e: unknown) => e);

    // Assess
    expect(String(error)).toMatch(/invalid alert ledger record name/);
  });
});
