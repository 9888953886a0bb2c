// Formatting helpers for money, dates and times. Money is always a decimal string
// (never a float) from the API; it is formatted without going through a JS number.

const DECIMAL = /^\s*([+-])?(\d+)(?:\.(\d+))?\s*$/;

/** Parse a decimal string ("-12.5", "1234.56") into integer cents; null when not a number. */
export function parseCents(value: string | number | null | undefined): bigint | null {
  if (value === null || value === undefined) return null;
  const m = DECIMAL.exec(String(value).replace(/,/g, ""));
  if (!m) return null;
  const [, sign, whole, frac = ""] = m;
  let cents = BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2));
  // Round half away from zero on the third decimal.
  if (frac.length > 2 && Number(frac[2]) >= 5) cents += 1n;
  return sign === "-" ? -cents : cents;
}

/** Integer cents back to a plain decimal string: -1205n -> "-12.05". */
export function centsToDecimal(cents: bigint): string {
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const whole = abs / 100n;
  const frac = (abs % 100n).toString().padStart(2, "0");
  return `${neg ? "-" : ""}${whole}.${frac}`;
}

function groupThousands(digits: string, sep: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/**
 * Format a decimal string as money: "1234.5", "EUR" -> "€1,234.50"; "-12" -> "-€12.00".
 * An unknown or missing currency shows the code (or nothing) after the number.
 * Returns "—" for a missing value and the raw text for something that is not a number.
 */
export function formatMoney(value: string | null | undefined, currency?: string | null, locale = "en-US"): string {
  if (value === null || value === undefined || value === "") return "—";
  const cents = parseCents(value);
  if (cents === null) return String(value);
  const decimal = centsToDecimal(cents);
  const code = (currency ?? "").trim().toUpperCase();
  if (/^[A-Z]{3}$/.test(code)) {
    try {
      const nf = new Intl.NumberFormat(locale, { style: "currency", currency: code });
      // Intl accepts decimal strings exactly (no float rounding).
      return nf.format(decimal as unknown as number);
    } catch {
      /* fall through to the plain format */
    }
  }
  const neg = cents < 0n;
  const [whole, frac] = decimal.replace("-", "").split(".");
  const plain = `${neg ? "-" : ""}${groupThousands(whole, ",")}.${frac}`;
  return code ? `${plain} ${code}` : plain;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2024-01-31" -> "31 Jan 2024"; anything else is shown as given ("—" when empty). */
export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return value;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return value;
  return `${Number(m[3])} ${MONTHS[month - 1]} ${m[1]}`;
}

/** "2024-01" -> "Jan 2024". */
export function formatMonth(value: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) return value;
  return `${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}

/** ISO 8601 timestamp -> "2024-01-31 14:03:09" in the given time zone (default: the browser's). */
export function formatDateTime(value: string | null | undefined, timeZone?: string): string {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")}`;
}

/** Seconds -> "1:05" or "1:02:05" (for transcript segments). */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds + 1e-6));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** Bytes -> "1.5 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** 0..1 -> "45%". */
export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}
