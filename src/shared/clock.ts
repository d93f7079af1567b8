/** Time comes in through a clock so schedules, heartbeats and placement are testable without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
