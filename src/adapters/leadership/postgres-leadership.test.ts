// Leadership over a real PostgreSQL (the shared test server; each test in a schema of its own).
// Short leases keep it quick; nothing asserts a time: it waits on outcomes with deadlines.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { BatonError } from '../../domain/errors.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Leadership } from '../../ports/leadership.ts';
import { openPostgresStore } from '../store/postgres/postgres-store.ts';
import { openPostgresLeadership } from './postgres-leadership.ts';

const url = process.env.BATON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Pool({ connectionString: url, max: 2 });
admin.on('error', () => {});
const schemas: string[] = [];
const opened: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of opened.reverse()) await o.close().catch(() => {});
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

const TIMING = { leaseMs: 900, renewEveryMs: 200, pollMs: 50, stepDownMarginMs: 200 };

function scratch(): string {
  const schema = `baton_lease_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

async function candidate(schema: string, pid: number, elapsedMs?: () => number): Promise<Leadership> {
  const leadership = await openPostgresLeadership({
    connectionString: url,
    schema,
    candidate: { pid, host: 'test' },
    clock: systemClock,
    elapsedMs,
    ...TIMING,
  });
  opened.push(leadership);
  return leadership;
}

const expireLease = (schema: string) =>
  admin.query(`UPDATE ${schema}.baton_leader_lease SET expires_at = clock_timestamp() - interval '1 second'`);

describe('PostgreSQL leadership: a lease row with an epoch', () => {
  it('elects one candidate; the next takes over at once when it releases, with the next epoch', async () => {
    const schema = scratch();
    const first = await candidate(schema, 1);
    const second = await candidate(schema, 2);
    const term = await first.campaign();
    const waiting = new AbortController();
    const next = second.campaign(waiting.signal);
    const view = await first.observe();
    assert.equal(view.leader?.pid, 1);
    assert.equal(view.leader?.epoch, term.epoch);
    await term.release();
    const successor = await next;
    assert.equal(successor.epoch, term.epoch + 1);
    await successor.fence();
  });

  it('a holder whose lease ran out and was taken over finds out, and its fence refuses', async () => {
    const schema = scratch();
    const first = await candidate(schema, 1);
    const second = await candidate(schema, 2);
    const term = await first.campaign();
    const next = second.campaign();
    await expireLease(schema); // what a holder paused past its lease looks like to the others
    const successor = await next;
    assert.ok(successor.epoch > term.epoch);
    await assert.rejects(
      term.fence(),
      (error) => error instanceof BatonError && error.code === 'leadership-lost',
    );
    assert.equal(term.lost.aborted, true);
  });

  it('steps down by itself once it could not renew within its lease', async () => {
    const schema = scratch();
    let paused = 0;
    const holder = await candidate(schema, 1, () => performance.now() + paused);
    const term = await holder.campaign();
    paused = 60_000; // its monotonic clock moved on without a renewal: a pause, a lost network
    await assert.rejects(term.fence(), /could not|not renewed/);
    assert.equal(term.lost.aborted, true);
  });

  it("fences the store: a stale epoch's writes are refused in their own transaction", async () => {
    const schema = scratch();
    const first = await candidate(schema, 1);
    const store = await openPostgresStore({ connectionString: url, schema });
    opened.push(store);
    const term = await first.campaign();
    const event = { kind: 'test.write', actor: 'test', message: 'x', time: new Date().toISOString() };
    await store.appendEvents([event], { fence: term.epoch });
    await expireLease(schema);
    await assert.rejects(
      store.appendEvents([event], { fence: term.epoch }),
      (error) => error instanceof BatonError && error.code === 'leadership-lost',
    );
    assert.equal((await store.readEvents({ kinds: ['test.write'] })).length, 1);
  });
});
