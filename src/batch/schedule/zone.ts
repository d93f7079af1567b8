// Time zones of schedules: which names a job may give, and the luxon Zone a schedule computes in.
import { FixedOffsetZone, IANAZone, Info, type Zone } from 'luxon';
import { Invalid } from '../../shared/errors.ts';

// The areas of IANA tzdata names (`Area/Location`), plus the old country areas of its `backward` file
// (US/Eastern, Canada/Pacific, ...), which are still links to real zones. ICU (behind Intl) also knows
// names that are not IANA's, such as SystemV/AST4; the area list keeps those out.
const IANA_AREAS = new Set([
  'Africa', 'America', 'Antarctica', 'Arctic', 'Asia', 'Atlantic', 'Australia', 'Europe', 'Indian', 'Pacific',
  'Etc', 'US', 'Canada', 'Mexico', 'Brazil', 'Chile',
]);

// Names without an area that mean exactly one thing everywhere. Abbreviations and POSIX-style names (EST,
// PST, IST, BST, CET, EST5EDT) are refused: their meaning differs between Java (which Chronos used), ICU and
// tzdata releases — ICU reads BST as Asia/Dhaka and IST as Asia/Kolkata, and tzdata 2024b turned EST into
// America/Panama and EST5EDT into America/New_York.
const PLAIN_NAMES = new Set(['UTC', 'GMT']);

const SEGMENT = /^[A-Z][A-Za-z0-9_+-]*$/;

/** Checks that `name` is an IANA zone name this runtime knows; returns it unchanged. */
export function checkZoneName(name: string, field = 'scheduleTimeZone'): string {
  const segments = name.split('/');
  const shaped = PLAIN_NAMES.has(name)
    || (segments.length >= 2 && IANA_AREAS.has(segments[0]!) && segments.every((s) => SEGMENT.test(s)));
  if (shaped && IANAZone.isValidZone(name)) return name;
  const hint = suggestZone(name);
  throw new Invalid(
    `${field}: "${name}" is not an IANA time zone name; use an Area/Location name such as "America/New_York", or "UTC"`
    + (hint ? ` (this runtime reads "${name}" as "${hint}")` : ''),
  );
}

function suggestZone(name: string): string | null {
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    return resolved === name ? null : resolved;
  } catch {
    return null;
  }
}

/** The zone name for a fixed UTC offset, in the form luxon reads back: "UTC", "UTC+1", "UTC-5:30". */
export function fixedOffsetZoneName(offsetMinutes: number): string {
  return FixedOffsetZone.instance(offsetMinutes).name;
}

/** The luxon zone for a schedule's zone name (an IANA name or a fixed-offset name from above). */
export function zoneOf(name: string): Zone {
  const zone = Info.normalizeZone(name);
  if (!zone.isValid) throw new Error(`unknown time zone "${name}"`);
  return zone;
}
