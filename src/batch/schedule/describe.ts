// One line about a schedule for CLI listings: "every 1 day from 2026-03-01 09:00 (America/New_York), 5 times".
import type { IsoPeriod, Schedule } from './types.ts';

const PERIOD_UNITS: Array<[keyof IsoPeriod, string]> = [
  ['years', 'year'], ['months', 'month'], ['weeks', 'week'], ['days', 'day'], ['hours', 'hour'], ['minutes', 'minute'],
];

export function describeSchedule(schedule: Schedule): string {
  if (schedule.kind === 'cron') return `cron "${schedule.expression}" (${schedule.zone})`;
  if (schedule.repetitions === 0) return 'never (R0)';
  const local = schedule.startLocal.replace('T', ' ').replace(/:00\.000$/, '').replace(/\.000$/, '');
  const times = schedule.repetitions === null ? '' : `, ${schedule.repetitions} time${schedule.repetitions === 1 ? '' : 's'}`;
  return `every ${describePeriod(schedule.period)} from ${local} (${schedule.zone})${times}`;
}

function describePeriod(period: IsoPeriod): string {
  const parts = PERIOD_UNITS.filter(([key]) => period[key] > 0).map(([key, unit]) => plural(period[key], unit));
  const seconds = period.seconds + period.milliseconds / 1000;
  if (seconds > 0) parts.push(plural(seconds, 'second'));
  return parts.join(' ');
}

function plural(value: number, unit: string): string {
  return `${value} ${unit}${value === 1 ? '' : 's'}`;
}
