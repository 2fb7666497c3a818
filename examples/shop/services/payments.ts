// payments: charges a card and books the money in the ledger. Card numbers are never
// stored nor logged; only their last four digits leave this service.
import { randomUUID } from 'node:crypto';
import { callJson } from '../lib/http.ts';
import { badRequest, isRecord, json, problem, serve } from '../lib/service.ts';

/** The well-known test card that is always declined. */
const DECLINED_CARD = '4000000000000002';

interface ChargeRequest {
  readonly order: string;
  /** In cents. */
  readonly amount: number;
  readonly card: string;
}

function parseCharge(body: unknown): ChargeRequest | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  const { order, amount, card } = body;
  if (typeof order !== 'string' || order === '') return '`order` must be a non-empty string';
  if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1) {
    return '`amount` must be a positive integer (cents)';
  }
  if (typeof card !== 'string' || !/^\d{12,19}$/.test(card)) return '`card` must be 12 to 19 digits';
  return { order, amount, card };
}

serve({
  name: 'payments',
  version: '1.5.0',
  defaultPort: 7104,
  routes: {
    'POST /charges': async ({ body, forward }) => {
      const charge = parseCharge(body);
      if (typeof charge === 'string') return badRequest(charge);
      if (charge.card === DECLINED_CARD) return problem(402, 'card-declined', 'the card was declined');

      const id = `ch_${randomUUID()}`;
      // The customer's card owes us the amount; the sale is income.
      const entry = await callJson(
        'ledger',
        'POST',
        '/entries',
        {
          reference: id,
          description: `charge for order ${charge.order}`,
          postings: [
            { account: 'assets:card-receivables', amount: charge.amount },
            { account: 'income:sales', amount: -charge.amount },
          ],
        },
        { headers: forward },
      );
      if (!entry.ok) return problem(502, 'ledger-refused', `the ledger answered ${entry.status}`);

      return json(201, {
        id,
        order: charge.order,
        amount: charge.amount,
        card: `**** ${charge.card.slice(-4)}`,
        status: 'captured',
      });
    },
  },
});
