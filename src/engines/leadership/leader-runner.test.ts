import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { BatonError } from '../../domain/errors.ts';
import type { Leadership, Term } from '../../ports/leadership.ts';
import { LeaderRunner, type LeaderRunnable } from './leader-runner.ts';

/** Elects at once, each campaign with the next epoch from 7. */
function fakeLeadership() {
  let lost = new AbortController();
  let released = 0;
  let epoch = 6;
  const leadership: Leadership = {
    name: 'fake',
    campaign: async () => {
      lost = new AbortController();
      const signal = lost.signal;
      return {
        epoch: ++epoch,
        lost: signal,
        announce: async () => {},
        release: async () => void released++,
        fence: async () => {
          if (signal.aborted) throw signal.reason as Error;
        },
      } satisfies Term;
    },
    advertise: async () => {},
    observe: async () => ({ leadership: 'fake', leader: undefined, replicas: [] }),
    close: async () => {},
  };
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

  it('with a lease, campaigns again after a lost term and starts the work afresh', async () => {
    const log: string[] = [];
    const { leadership, lose } = fakeLeadership();
    const { promise: elected, resolve: elect } = Promise.withResolvers<number>();
    const runner = new LeaderRunner({
      leadership,
      logger,
      onLost: () => {},
      onElected: (term) => term.epoch === 8 && elect(term.epoch),
      campaignAgain: true,
      runnables: [recorder(log, 'controller')],
    });
    await runner.start({ inBackground: true });
    await new Promise((resolve) => setImmediate(resolve));
    lose(new BatonError('leadership-lost', 'paused past the lease'));
    assert.equal(await elected, 8);
    assert.deepEqual(log, ['start controller 7', 'stop controller lost', 'start controller 8']);
    await runner.stop();
    assert.equal(runner.leading, false);
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
