import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../adapters/clock/fake-clock.ts';
import { openSqliteStore } from '../../adapters/store/sqlite/sqlite-store.ts';
import { edgeKey, egressKey } from '../../domain/gateway/east-west.ts';
import { ListenerPorts } from './listener-ports.ts';

const wanted = [
  { key: egressKey('web'), caller: 'web' },
  { key: edgeKey('web', 'hotel', '^1.0.0'), caller: 'web', callee: 'hotel', range: '^1.0.0' },
];

describe('ListenerPorts', () => {
  it('gives each listener a port of the range once, recorded: a restarted control plane gives the same', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const clock = new FakeClock();
    const busy = new Set([21000]);
    const tried: number[] = [];
    let draw = 0;
    // The first draw lands on a busy port: it is skipped, never recorded.
    const options = {
      store,
      clock,
      host: '127.0.0.1',
      range: { from: 21000, to: 21009 },
      random: () => [0, 0.35, 0.75, 0.95][draw++ % 4]!,
      isFree: async (_host: string, port: number) => {
        tried.push(port);
        return !busy.has(port);
      },
    };
    const first = new ListenerPorts(options);
    const ports = await first.ensure(wanted);
    assert.deepEqual([...ports.values()], [21003, 21007]);
    assert.deepEqual(tried, [21000, 21003, 21007]);

    // Asking again, concurrently, assigns nothing new.
    const [a, b] = await Promise.all([first.ensure(wanted), first.ensure(wanted)]);
    assert.deepEqual([...a], [...ports]);
    assert.deepEqual([...b], [...ports]);

    const restarted = new ListenerPorts({ ...options, isFree: async () => assert.fail('nothing to try') });
    assert.deepEqual([...(await restarted.ensure(wanted))], [...ports]);
    const events = await store.readEvents({ kinds: ['data-plane.ports-assigned'] });
    assert.equal(events.length, 1);
    await store.close();
  });

  it('keeps the first record of a key when two control planes raced', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const clock = new FakeClock();
    const time = clock.now().toISOString();
    await store.appendEvents([
      {
        kind: 'data-plane.ports-assigned',
        actor: 'a',
        message: 'a',
        data: { ports: { [egressKey('web')]: 22001 } },
        time,
      },
      {
        kind: 'data-plane.ports-assigned',
        actor: 'b',
        message: 'b',
        data: { ports: { [egressKey('web')]: 22002 } },
        time,
      },
    ]);
    const ports = new ListenerPorts({ store, clock, host: '127.0.0.1', isFree: async () => true });
    await ports.catchUp();
    assert.equal(ports.port(egressKey('web')), 22001);
    await store.close();
  });
});
