import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { BatonError } from '../../domain/errors.ts';
import type { Leadership, Term } from '../../ports/leadership.ts';
import { LeaderRunner, type LeaderRunnable } from './leader-runner.ts';

function fakeLeadership() {
  const lost = new AbortController();
  let released = 0;
  const term: Term = {
    epoch: 7,
    lost: lost.signal,
    announce: async () => {},
    release: async () => void released++,
  };
  const leadership: Leadership = { name: 'fake', campaign: async () => term, close: async () => {} };
  return { leadership, lose: (reason: unknown) => lost.abort(reason), released: () => released };
}

function recorder(log: string[], name: string): LeaderRunnable {
  return {
    name,
    start: async (term) => void log.push(`start ${name} ${term.epoch}`),
    stop: async (reason) => void log.push(`stop ${name} ${reason}`),
  };
}

const logger = pino({ level: 'silent' });

describe('LeaderRunner', () => {
  it('starts the work in order once elected, and stops it in reverse before releasing on shutdown', async () => {
    const log: string[] = [];
    const { leadership, released } = fakeLeadership();
    const runner = new LeaderRunner({
      leadership,
      logger,
      onLost: () => assert.fail('not lost'),
      runnables: [recorder(log, 'controller'), recorder(log, 'alerts')],
    });
    await runner.start();
    assert.equal(runner.term?.epoch, 7);
    await runner.stop();
    assert.deepEqual(log, [
      'start controller 7',
      'start alerts 7',
      'stop alerts shutdown',
      'stop controller shutdown',
    ]);
    assert.equal(released(), 1);
    assert.equal(runner.term, undefined);
  });

  it('stops the work when leadership is lost, then tells its owner why', async () => {
    const log: string[] = [];
    const { leadership, lose, released } = fakeLeadership();
    const { promise: told, resolve: tell } = Promise.withResolvers<unknown>();
    const runner = new LeaderRunner({
      leadership,
      logger,
      onLost: tell,
      runnables: [recorder(log, 'controller')],
    });
    await runner.start();
    const reason = new BatonError('leadership-lost', 'taken over');
    lose(reason);
    assert.equal(await told, reason);
    assert.deepEqual(log, ['start controller 7', 'stop controller lost']);
    await runner.stop();
    assert.deepEqual(log, ['start controller 7', 'stop controller lost'], 'stopped once');
    assert.equal(released(), 0, 'a lost term is not released: it is no longer ours');
  });

  it('undoes a partial start and releases when a runnable fails to start', async () => {
    const log: string[] = [];
    const { leadership, released } = fakeLeadership();
    const failing: LeaderRunnable = {
      name: 'alerts',
      start: () => Promise.reject(new Error('no')),
      stop: async () => void log.push('stop alerts'),
    };
    const runner = new LeaderRunner({
      leadership,
      logger,
      onLost: () => {},
      runnables: [recorder(log, 'controller'), failing],
    });
    await assert.rejects(runner.start(), /no/);
    assert.deepEqual(log, ['start controller 7', 'stop controller shutdown']);
    assert.equal(released(), 1);
  });
});
