/** Time comes through a port so that tests, the reconciler and cron can run on a fake clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
