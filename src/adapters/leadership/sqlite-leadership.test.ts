import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { BatonError } from '../../domain/errors.ts';
import type { Leadership } from '../../ports/leadership.ts';
import { FakeClock } from '../clock/fake-clock.ts';
import { openSqliteLeadership } from './sqlite-leadership.ts';

const here = { pid: process.pid, host: hostname() };

describe('SQLite leadership: one control plane per database', () => {
  let dir: string;
  let count = 0;
  const opened: Leadership[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-leadership-'));
  });
  after(async () => {
    for (const leadership of opened) await leadership.close();
    await rm(dir, { recursive: true, force: true });
  });

  const database = () => join(dir, `state-${++count}.db`);
  const open = async (path: string, candidate = here, clock = new FakeClock()) => {
    const leadership = await openSqliteLeadership({ path, candidate, clock });
    opened.push(leadership);
    return leadership;
  };
  /** What a control plane killed -9 leaves: its row, naming a pid that no longer runs. */
  const deadPid = async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    return child.pid!;
  };

  it('leads at once, and refuses a second control plane naming the first', async () => {
    const path = database();
    const first = await open(path);
    const term = await first.campaign();
    assert.equal(term.epoch, 1);
    await term.announce('http://127.0.0.1:7070');
    await assert.rejects(open(path), (error) => {
      assert.ok(error instanceof BatonError);
      assert.equal(error.code, 'state-locked');
      assert.equal(error.retryable, false);
      assert.match(
        error.message,
        new RegExp(`pid ${process.pid} on ${hostname()}, http://127\\.0\\.0\\.1:7070`),
      );
      assert.match(error.hint ?? '', new RegExp(`kill ${process.pid}`));
      return true;
    });
    assert.equal(term.lost.aborted, false, 'the refusal takes nothing from the holder');
  });

  it('lets only one of two control planes starting together win', async () => {
    const path = database();
    const outcomes = await Promise.allSettled([open(path), open(path)]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    const refused = outcomes.find((o) => o.status === 'rejected');
    assert.equal((refused?.reason as BatonError).code, 'state-locked');
  });

  it('takes over the lock of a dead process, with the next epoch', async () => {
    const path = database();
    const crashed = await open(path, { pid: await deadPid(), host: here.host });
    assert.equal((await crashed.campaign()).epoch, 1);
    const next = await open(path);
    assert.equal((await next.campaign()).epoch, 2);
  });

  it('hands over at once on release, the epoch going on', async () => {
    const path = database();
    const first = await open(path);
    await (await first.campaign()).release();
    await first.close();
    const second = await open(path);
    assert.equal((await second.campaign()).epoch, 2);
  });

  it('counts a holder on another machine as gone once it stops renewing', async () => {
    const path = database();
    const clock = new FakeClock();
    const elsewhere = await open(path, { pid: 1, host: 'other-machine' }, clock);
    await elsewhere.campaign();
    await assert.rejects(open(path, here, clock), /other-machine/);
    // The other machine's process dies: its lock is no longer renewed (the adapter is left open).
    const row = new DatabaseSync(path);
    row.exec("UPDATE leadership SET renewed_at = '2000-01-01T00:00:00.000Z'");
    row.close();
    assert.equal((await (await open(path, here, clock)).campaign()).epoch, 2);
  });

  it('finds out when its lock was taken from it, and says so through `lost`', async () => {
    const path = database();
    const clock = new FakeClock();
    const holder = await open(path, here, clock);
    const term = await holder.campaign();
    await clock.advance(10_000);
    assert.equal(term.lost.aborted, false, 'renewing keeps it');
    const row = new DatabaseSync(path);
    row.exec("UPDATE leadership SET holder = 'someone-else'");
    row.close();
    await clock.advance(2_000);
    assert.equal(term.lost.aborted, true);
    assert.equal((term.lost.reason as BatonError).code, 'leadership-lost');
  });
});
