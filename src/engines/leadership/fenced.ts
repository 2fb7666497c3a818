// The leader's side effects, fenced by its epoch: the store and the runtime the leader-only
// work is given. A store write carries the epoch of the current term (the store checks it in
// the write's transaction); a start or stop asks the term first. Without a term — between
// terms, or on a replica that does not lead — nothing is written and nothing is started.
import { BatonError } from '../../domain/errors.ts';
import type { Term } from '../../ports/leadership.ts';
import type { Runtime } from '../../ports/runtime.ts';
import type { NewEvent, Store } from '../../ports/store.ts';
import { delegate } from '../runtime/delegate.ts';

function current(term: () => Term | undefined): Term {
  const now = term();
  if (now === undefined || now.lost.aborted)
    throw new BatonError('leadership-lost', 'this control plane does not lead: it takes no action', {
      hint: 'the leader acts; `baton status` names it',
    });
  return now;
}

/**
 * The store as the leader writes to it: every write carries the current term's epoch. With
 * `stamp` (several replicas) each event also says which epoch wrote it, so that the log shows
 * at most one leader acting at a time.
 */
export function fencedStore(store: Store, term: () => Term | undefined, options: { stamp: boolean }): Store {
  const stamped = (events: readonly NewEvent[], epoch: number): readonly NewEvent[] =>
    options.stamp ? events.map((e) => ({ ...e, data: { ...e.data, epoch } })) : events;
  return delegate(store, {
    appendEvents: (events, write) => {
      const epoch = current(term).epoch;
      return store.appendEvents(stamped(events, epoch), { ...write, fence: epoch });
    },
    appendRevision: (revision, options) =>
      store.appendRevision(revision, { ...options, fence: current(term).epoch }),
  });
}

/** The runtime as the leader drives it: a start or stop only while the current term holds. */
export function fencedRuntime(runtime: Runtime, term: () => Term | undefined): Runtime {
  return delegate(runtime, {
    start: async (spec) => {
      await current(term).fence();
      return runtime.start(spec);
    },
    stop: async (id, options) => {
      await current(term).fence();
      return runtime.stop(id, options);
    },
  });
}
