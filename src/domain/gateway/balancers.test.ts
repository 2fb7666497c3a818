import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConsistentHash, HashRing, LeastRequest, RoundRobin, cookieValue, hashString } from './balancers.ts';

interface Ep {
  readonly id: string;
  active: number;
}

const eps = (n: number): Ep[] => Array.from({ length: n }, (_, i) => ({ id: `e${i}`, active: 0 }));

/** A deterministic pseudo-random sequence (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RoundRobin', () => {
  it('visits every endpoint in turn', () => {
    const list = eps(3);
    const rr = new RoundRobin<Ep>(() => 0);
    const seen = Array.from({ length: 6 }, () => rr.pick(list, undefined)!.id);
    assert.deepEqual(seen, ['e0', 'e1', 'e2', 'e0', 'e1', 'e2']);
  });

  it('never returns the endpoint to avoid when another exists', () => {
    const list = eps(3);
    const rr = new RoundRobin<Ep>(() => 0);
    for (let i = 0; i < 10; i++) assert.notEqual(rr.pick(list, list[1]), list[1]);
    assert.equal(rr.pick([list[0]!], list[0]), list[0]);
    assert.equal(rr.pick([], undefined), undefined);
  });
});

describe('LeastRequest', () => {
  it('picks the less loaded of two random endpoints', () => {
    const list = eps(2);
    list[0]!.active = 5;
    const lr = new LeastRequest<Ep>(seeded(1));
    for (let i = 0; i < 20; i++) assert.equal(lr.pick(list, undefined), list[1]);
  });

  it('sends most traffic to idle endpoints when one is busy', () => {
    const list = eps(4);
    list[2]!.active = 100;
    const lr = new LeastRequest<Ep>(seeded(7));
    let busy = 0;
    for (let i = 0; i < 1000; i++) if (lr.pick(list, undefined) === list[2]) busy++;
    assert.equal(busy, 0);
  });

  it('never returns the endpoint to avoid when another exists', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.nat(), fc.integer(), (n, avoidAt, seed) => {
        const list = eps(n);
        const avoid = list[avoidAt % n]!;
        avoid.active = -1; // the least loaded, so only the avoid rule keeps it out
        const lr = new LeastRequest<Ep>(seeded(seed));
        for (let i = 0; i < 20; i++) assert.notEqual(lr.pick(list, avoid), avoid);
      }),
    );
  });
});

describe('HashRing', () => {
  it('gives the same answer on every gateway (same ids, same ring)', () => {
    const ids = ['a', 'b', 'c'];
    const one = new HashRing(ids);
    const two = new HashRing([...ids]);
    for (let k = 0; k < 200; k++) {
      const h = hashString(`user-${k}`);
      assert.equal(
        one.lookup(h, () => true),
        two.lookup(h, () => true),
      );
    }
  });

  it('spreads keys roughly evenly', () => {
    const ring = new HashRing(['a', 'b', 'c', 'd']);
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 20_000; k++) counts[ring.lookup(hashString(`key-${k}`), () => true)]!++;
    for (const c of counts) assert.ok(c > 3500 && c < 6500, `uneven spread: ${counts.join(',')}`);
  });

  it('moves only the keys of an endpoint that leaves', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 8 }),
        fc.nat(),
        fc.array(fc.string(), { minLength: 1, maxLength: 50 }),
        (ids, gone, keys) => {
          const leaving = ids[gone % ids.length]!;
          const before = new HashRing(ids);
          const rest = ids.filter((id) => id !== leaving);
          const after = new HashRing(rest);
          for (const key of keys) {
            const h = hashString(key);
            const owner = ids[before.lookup(h, () => true)]!;
            const next = rest[after.lookup(h, () => true)]!;
            if (owner !== leaving) assert.equal(next, owner);
          }
        },
      ),
    );
  });

  it('skips unusable endpoints without moving anyone else', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const ring = new HashRing(ids);
    for (let k = 0; k < 500; k++) {
      const h = hashString(`k${k}`);
      const owner = ring.lookup(h, () => true);
      const skipped = ring.lookup(h, (i) => i !== 2);
      if (owner !== 2) assert.equal(skipped, owner);
      else assert.notEqual(skipped, 2);
    }
    assert.equal(
      ring.lookup(1, () => false),
      -1,
    );
  });
});

describe('ConsistentHash', () => {
  it('sends one key to one endpoint, and elsewhere only when told to avoid it', () => {
    const list = eps(5);
    const ch = new ConsistentHash<Ep>(
      list,
      list.map((e) => e.id),
      seeded(3),
    );
    const h = hashString('user-42');
    const first = ch.pick(list, undefined, h)!;
    for (let i = 0; i < 10; i++) assert.equal(ch.pick(list, undefined, h), first);
    const other = ch.pick(list, first, h)!;
    assert.notEqual(other, first);
    assert.equal(ch.pick([first], first, h), first);
    assert.equal(
      ch.pick(
        list.filter((e) => e !== first),
        undefined,
        h,
      ),
      other,
    );
  });

  it('spreads requests without a key', () => {
    const list = eps(3);
    const ch = new ConsistentHash<Ep>(
      list,
      list.map((e) => e.id),
      () => 0,
    );
    const seen = new Set(Array.from({ length: 3 }, () => ch.pick(list, undefined, undefined)));
    assert.equal(seen.size, 3);
  });
});

describe('hashString', () => {
  it('matches MurmurHash3 x86_32 on the reference vectors it can express', () => {
    // Code units are hashed two per 4-byte block, so "\u6261\u6463" is the bytes "abcd".
    assert.equal(hashString(''), 0);
    assert.equal(hashString('', 1), 0x514e28b7);
    assert.equal(hashString('\u6261\u6463'), 0x43ed676a);
  });
});

describe('cookieValue', () => {
  it('finds one cookie among several', () => {
    assert.equal(cookieValue('a=1; session=xyz; b=2', 'session'), 'xyz');
    assert.equal(cookieValue('session=xyz', 'session'), 'xyz');
    assert.equal(cookieValue('mysession=1; session = v ', 'session'), 'v');
    assert.equal(cookieValue('a=1', 'session'), undefined);
    assert.equal(cookieValue(undefined, 'session'), undefined);
  });
});
