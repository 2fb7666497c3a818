// One way to decorate a port (a Runtime, a Store): the methods a decorator changes are given,
// every other member reaches the wrapped object as it is, getters and private fields intact.
// A hand-written forwarding class drops what it forgets to forward (one once dropped the
// runtime's listening(), and health stopped checking who holds a port); this cannot.
export function delegate<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(inner, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof T];
      const value: unknown = Reflect.get(inner, property, inner);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(inner) : value;
    },
  });
}
