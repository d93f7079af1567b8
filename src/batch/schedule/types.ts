// The shapes the schedule module hands out. Plain data: the firing loop may keep them in its index.

/** An ISO 8601 duration's parts as written. Weeks and days are calendar days in the zone. */
export interface IsoPeriod {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  /** Whole seconds; the fraction written (PT1.5S) is in `milliseconds`. */
  seconds: number;
  milliseconds: number;
}

export interface IsoSchedule {
  kind: 'iso8601';
  /** How many occurrences in all (occurrence k runs for k < repetitions); null for `R` (no end). */
  repetitions: number | null;
  /** Occurrence 0, as an instant. */
  start: Date;
  /**
   * Occurrence 0 as the wall-clock time written (YYYY-MM-DDThh:mm:ss.sss in `zone`): the anchor of the
   * calendar arithmetic. It differs from `start` read in `zone` only when the written time fell in a
   * daylight-saving gap, and then the later occurrences keep the written time of day.
   */
  startLocal: string;
  period: IsoPeriod;
  /** IANA name, or a fixed offset ("UTC+1", "UTC-5:30") taken from the start when no zone was given. */
  zone: string;
  /** The schedule exactly as given; never rewritten. */
  text: string;
}

export interface CronSchedule {
  kind: 'cron';
  /** The expression as given (5 fields, 6 with seconds first, or an @macro such as @daily). */
  expression: string;
  /** IANA name (UTC when none was given). */
  zone: string;
  text: string;
}

export type Schedule = IsoSchedule | CronSchedule;

export interface Occurrence {
  at: Date;
  /** k for an ISO schedule (start + k·period); null for cron. */
  index: number | null;
}
