// Small formatting helpers: durations, times, rates and the words that go with a state, so no
// state is told by colour alone.

export function seconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '—';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function when(iso: string | undefined): string {
  if (iso === undefined) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function between(a: string | undefined, b: string | undefined, now = Date.now()): number | undefined {
  if (a === undefined) return undefined;
  return ((b === undefined ? now : Date.parse(b)) - Date.parse(a)) / 1000;
}

export function bits(bytesPerS: number): string {
  const b = bytesPerS * 8;
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} Gbit/s`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} Mbit/s`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kbit/s`;
  return `${b.toFixed(0)} bit/s`;
}

/** A symbol beside each state word: readable without colour, and a CSS class for colour. */
export const STATE_MARK: Readonly<Record<string, string>> = {
  queued: '◷', running: '▶', paused: '⏸', succeeded: '✓', failed: '✗', cancelled: '■', pending: '◷', skipped: '↷',
  measured: '✓', invalid: '⚠', healthy: '✓', unreachable: '✗',
};
