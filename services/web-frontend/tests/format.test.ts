import { describe, expect, it } from "vitest";
import {
  centsToDecimal, formatBytes, formatClock, formatDate, formatDateTime, formatMoney, formatMonth, formatPercent, parseCents,
} from "../src/lib/format";

describe("parseCents", () => {
  it("parses decimal strings exactly", () => {
    expect(parseCents("1234.56")).toBe(123456n);
    expect(parseCents("-12.00")).toBe(-1200n);
    expect(parseCents("+3.5")).toBe(350n);
    expect(parseCents("7")).toBe(700n);
    expect(parseCents("1,234.5")).toBe(123450n);
    expect(parseCents("90071992547409.93")).toBe(9007199254740993n);
  });
  it("rounds a third decimal half away from zero", () => {
    expect(parseCents("0.125")).toBe(13n);
    expect(parseCents("-0.125")).toBe(-13n);
    expect(parseCents("0.124")).toBe(12n);
  });
  it("rejects what is not a number", () => {
    expect(parseCents("abc")).toBeNull();
    expect(parseCents("")).toBeNull();
    expect(parseCents(null)).toBeNull();
    expect(parseCents("1.2.3")).toBeNull();
  });
  it("round-trips through centsToDecimal", () => {
    for (const s of ["0.00", "-0.05", "12.30", "-1234567.89"]) expect(centsToDecimal(parseCents(s)!)).toBe(s);
  });
});

describe("formatMoney", () => {
  it("formats with a currency", () => {
    expect(formatMoney("1234.5", "EUR")).toBe("€1,234.50");
    expect(formatMoney("-12", "USD")).toBe("-$12.00");
    expect(formatMoney("1234.56", "gbp")).toBe("£1,234.56");
  });
  it("keeps precision beyond float range", () => {
    expect(formatMoney("90071992547409.93", "USD")).toBe("$90,071,992,547,409.93");
  });
  it("falls back without a usable currency", () => {
    expect(formatMoney("-1234.5", null)).toBe("-1,234.50");
    expect(formatMoney("5", "XYZ1")).toBe("5.00 XYZ1");
  });
  it("shows missing and malformed values plainly", () => {
    expect(formatMoney(null, "EUR")).toBe("—");
    expect(formatMoney("", "EUR")).toBe("—");
    expect(formatMoney("n/a", "EUR")).toBe("n/a");
  });
  it("uses the locale's separators", () => {
    expect(formatMoney("1234.5", "EUR", "de-DE")).toBe("1.234,50\u00a0€");
  });
});

describe("dates and times", () => {
  it("formats ISO dates without time-zone shifts", () => {
    expect(formatDate("2024-01-31")).toBe("31 Jan 2024");
    expect(formatDate("2024-12-01T23:59:00Z")).toBe("1 Dec 2024");
    expect(formatDate(null)).toBe("—");
    expect(formatDate("31/01/2024")).toBe("31/01/2024");
    expect(formatDate("2024-13-01")).toBe("2024-13-01");
  });
  it("formats months", () => {
    expect(formatMonth("2024-02")).toBe("Feb 2024");
    expect(formatMonth("garbage")).toBe("garbage");
  });
  it("formats timestamps in a time zone", () => {
    expect(formatDateTime("2024-01-31T14:03:09Z", "UTC")).toBe("2024-01-31 14:03:09");
    expect(formatDateTime("2024-01-31T23:30:00Z", "Europe/Berlin")).toBe("2024-02-01 00:30:00");
    expect(formatDateTime("nope")).toBe("nope");
    expect(formatDateTime(undefined)).toBe("—");
  });
  it("formats clock times for segments", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(65.9)).toBe("1:05");
    expect(formatClock(3725)).toBe("1:02:05");
    expect(formatClock(-3)).toBe("0:00");
  });
});

describe("sizes and percentages", () => {
  it("formats bytes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(25 * 1024 * 1024)).toBe("25 MB");
  });
  it("formats fractions", () => {
    expect(formatPercent(0.456)).toBe("46%");
    expect(formatPercent(1.2)).toBe("100%");
    expect(formatPercent(null)).toBe("—");
  });
});
