// Plain calendar dates (YYYY-MM-DD) in a workspace's time zone, without
// time zone arithmetic: the server reads dates in the workspace's zone.

/** Today's date in `zone` (an IANA name), as YYYY-MM-DD. */
export function today(zone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

/** `date` plus `n` days. */
export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Monday 0 … Sunday 6. */
export function weekday(date) {
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
}
