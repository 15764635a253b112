/** The clock port: code that needs "now" takes a Clock so tests and replays can pin time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
