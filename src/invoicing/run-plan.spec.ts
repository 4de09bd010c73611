import { InvoiceDocument } from './invoice';
import { contentHash, planRunEvents } from './run-plan';

function doc(workspace: string, total: string, computedAt = '2026-12-01T00:00:00.000Z'): InvoiceDocument {
  return {
    id: `inv_2026-11_${workspace}`,
    workspace_id: workspace,
    period: '2026-11',
    period_start: '2026-11-01T00:00:00.000Z',
    period_end: '2026-12-01T00:00:00.000Z',
    currency: 'usd',
    plan: { plan: 'starter', base_fee: '0.00', monthly_credits: '0.00' },
    lines: [],
    usage_subtotal: total,
    credits_applied: '0.00',
    total,
    computed_at: computedAt,
  };
}

const stored = (...entries: Array<[InvoiceDocument, boolean]>) =>
  new Map(entries.map(([document, finalized]) => [document.id, { document, finalized }]));

describe('what an invoice run publishes', () => {
  const a = doc('ws_a', '10.00');
  const b = doc('ws_b', '20.00');

  it.each([
    [
      'nothing stored, drafting',
      [a, b],
      stored(),
      false,
      ['invoice.drafted', 'invoice.drafted'],
      { drafted: 2, finalized: 0, already_finalized: 0 },
    ],
    [
      'nothing stored, finalizing',
      [a],
      stored(),
      true,
      ['invoice.drafted', 'invoice.finalized'],
      { drafted: 1, finalized: 1, already_finalized: 0 },
    ],
    // Same content computed later: not republished.
    [
      'unchanged draft',
      [doc('ws_a', '10.00', '2026-12-02T09:00:00.000Z')],
      stored([a, false]),
      false,
      [],
      { drafted: 0, finalized: 0, already_finalized: 0 },
    ],
    [
      'changed draft',
      [doc('ws_a', '11.00')],
      stored([a, false]),
      false,
      ['invoice.drafted'],
      { drafted: 1, finalized: 0, already_finalized: 0 },
    ],
    [
      'unchanged draft, finalizing',
      [a],
      stored([a, false]),
      true,
      ['invoice.finalized'],
      { drafted: 0, finalized: 1, already_finalized: 0 },
    ],
    // A finalized invoice is never touched, whatever the usage says now.
    [
      'finalized, usage changed',
      [doc('ws_a', '99.00')],
      stored([a, true]),
      true,
      [],
      { drafted: 0, finalized: 0, already_finalized: 1 },
    ],
  ])('%s', (_name, computed, before, finalize, types, counts) => {
    const plan = planRunEvents(computed, before, finalize, new Date(0));
    expect(plan.events.map((e) => e.type)).toEqual(types);
    expect(plan.counts).toEqual({ invoices: computed.length, ...counts });
  });

  it('ids come from the content: a repeated run publishes the same ids, a changed invoice a new draft id', () => {
    const first = planRunEvents([a], stored(), true, new Date(0)).events.map((e) => e.id);
    const again = planRunEvents(
      [doc('ws_a', '10.00', '2026-12-09T00:00:00.000Z')],
      stored(),
      true,
      new Date(0),
    ).events.map((e) => e.id);
    expect(again).toEqual(first);
    expect(first).toEqual([`invoice.drafted:${a.id}:${contentHash(a)}`, `invoice.finalized:${a.id}`]);
    const changed = planRunEvents([doc('ws_a', '10.01')], stored(), false, new Date(0)).events[0].id;
    expect(changed).not.toEqual(first[0]);
  });
});
