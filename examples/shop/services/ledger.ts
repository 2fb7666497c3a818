// ledger: double-entry bookkeeping. Every entry moves money between accounts and its
// postings sum to zero, so the books always balance.
import { randomUUID } from 'node:crypto';
import { badRequest, isRecord, json, serve } from '../lib/service.ts';

interface Posting {
  readonly account: string;
  /** In cents: positive debits, negative credits. */
  readonly amount: number;
}

interface Entry {
  readonly id: string;
  /** What the entry records, e.g. a charge id. */
  readonly reference: string;
  readonly description: string;
  readonly postings: readonly Posting[];
  readonly recordedAt: string;
}

const entries: Entry[] = [];

function parsePosting(value: unknown): Posting | string {
  if (!isRecord(value)) return 'each posting must be an object';
  const { account, amount } = value;
  if (typeof account !== 'string' || account === '') return 'each posting needs an `account`';
  if (typeof amount !== 'number' || !Number.isInteger(amount) || amount === 0) {
    return 'each posting needs a non-zero integer `amount` in cents';
  }
  return { account, amount };
}

function parseEntry(body: unknown): Omit<Entry, 'id' | 'recordedAt'> | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  const { reference, description = '', postings } = body;
  if (typeof reference !== 'string' || reference === '') return '`reference` must be a non-empty string';
  if (typeof description !== 'string') return '`description` must be a string';
  if (!Array.isArray(postings) || postings.length < 2) return '`postings` must list at least two postings';
  const parsed: Posting[] = [];
  for (const value of postings) {
    const posting = parsePosting(value);
    if (typeof posting === 'string') return posting;
    parsed.push(posting);
  }
  if (parsed.reduce((sum, p) => sum + p.amount, 0) !== 0) return 'the postings must sum to zero';
  return { reference, description, postings: parsed };
}

function balances(of: readonly Entry[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { account, amount } of of.flatMap((entry) => entry.postings)) {
    totals[account] = (totals[account] ?? 0) + amount;
  }
  return totals;
}

serve({
  name: 'ledger',
  version: '3.2.0',
  defaultPort: 7105,
  routes: {
    'POST /entries': ({ body }) => {
      const request = parseEntry(body);
      if (typeof request === 'string') return badRequest(request);
      const entry = { id: randomUUID(), ...request, recordedAt: new Date().toISOString() };
      entries.push(entry);
      return json(201, entry);
    },

    // `?reference=` narrows the list to what one charge recorded.
    'GET /entries': ({ query }) => {
      const reference = query.get('reference');
      const found = reference === null ? entries : entries.filter((e) => e.reference === reference);
      return json(200, { entries: found, balances: balances(found) });
    },
  },
});
