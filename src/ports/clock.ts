// Time comes through a port so that the reconciler, health checks, cron and the simulated
// runtime run on a fake clock in tests: deterministic, and no real sleeps.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): Date;
  /** Calls back once after `ms` of this clock's time. */
  setTimeout(callback: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout(callback, ms) {
    // Unref'd: a pending retry or probe alone never keeps a process alive.
    const handle = setTimeout(callback, ms).unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
