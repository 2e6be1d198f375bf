//! Partial dates and times as HL7 v2 sends them (DTM / TS with any precision), rendered for FHIR.
//!
//! FHIR requires a time zone whenever a time is present; HL7 v2 senders often omit it. A
//! [`TimeZoneRule`] (by default Central European time with EU daylight-saving rules, as in France
//! and Belgium) supplies the offset in that case instead of silently dropping the time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialDateTime {
    pub year: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minute: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second: Option<u8>,
    /// Fraction of a second in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub millis: Option<u16>,
    /// Offset from UTC in minutes, when the sender gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_minutes: Option<i16>,
}

/// How to place a local time without an offset on the UTC line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeZoneRule {
    Utc,
    /// CET (+01:00) / CEST (+02:00) with EU rules: summer time from the last Sunday of March,
    /// 02:00 local, to the last Sunday of October, 03:00 local. France and Belgium.
    #[default]
    CentralEurope,
}

fn two(b: &[u8]) -> Option<u8> {
    match b {
        [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Some((a - b'0') * 10 + (c - b'0')),
        _ => None,
    }
}

impl PartialDateTime {
    /// Parses an HL7 v2 DTM/TS value (`YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`); `None` when malformed.
    pub fn parse_hl7(s: &str) -> Option<Self> {
        let s = s.trim();
        let (body, offset) = match s.find(['+', '-']) {
            Some(i) => (&s[..i], Some(&s[i..])),
            None => (s, None),
        };
        let (digits, frac) = match body.split_once('.') {
            Some((d, f)) => (d, Some(f)),
            None => (body, None),
        };
        let b = digits.as_bytes();
        if !matches!(b.len(), 4 | 6 | 8 | 10 | 12 | 14) || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let year: u16 = digits[..4].parse().ok()?;
        let part = |i: usize| if b.len() >= i + 2 { two(&b[i..i + 2]) } else { None };
        let mut dt =
            PartialDateTime { year, month: part(4), day: part(6), hour: part(8), minute: part(10), second: part(12), millis: None, offset_minutes: None };
        if let Some(f) = frac {
            if b.len() != 14 || f.is_empty() || f.len() > 4 || !f.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let mut padded = f.to_owned();
            while padded.len() < 3 {
                padded.push('0');
            }
            dt.millis = padded[..3].parse().ok();
        }
        if let Some(o) = offset {
            let ob = o.as_bytes();
            if ob.len() != 5 {
                return None;
            }
            let h = i16::from(two(&ob[1..3])?);
            let m = i16::from(two(&ob[3..5])?);
            if h > 14 || m > 59 {
                return None;
            }
            let sign = if ob[0] == b'-' { -1 } else { 1 };
            dt.offset_minutes = Some(sign * (h * 60 + m));
        }
        dt.is_valid().then_some(dt)
    }

    fn is_valid(&self) -> bool {
        let month_ok = self.month.is_none_or(|m| (1..=12).contains(&m));
        let day_ok = match (self.month, self.day) {
            (Some(m), Some(d)) => d >= 1 && d <= days_in_month(self.year, m),
            _ => true,
        };
        month_ok && day_ok && self.hour.is_none_or(|h| h < 24) && self.minute.is_none_or(|m| m < 60) && self.second.is_none_or(|s| s < 60)
    }

    /// FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn fhir_date(&self) -> String {
        let mut s = String::with_capacity(32);
        push_digits(&mut s, u32::from(self.year), 4);
        if let Some(m) = self.month {
            s.push('-');
            push_digits(&mut s, u32::from(m), 2);
            if let Some(d) = self.day {
                s.push('-');
                push_digits(&mut s, u32::from(d), 2);
            }
        }
        s
    }

    /// FHIR `dateTime`: the date alone when no time was sent, otherwise a full time with an offset
    /// (the sender's, or the one `rule` gives for that local time).
    pub fn fhir_date_time(&self, rule: TimeZoneRule) -> String {
        let (Some(month), Some(day), Some(hour)) = (self.month, self.day, self.hour) else {
            return self.fhir_date();
        };
        let minute = self.minute.unwrap_or(0);
        let second = self.second.unwrap_or(0);
        let offset = self.offset_minutes.unwrap_or_else(|| rule.offset_minutes(self.year, month, day, hour));
        let mut s = self.fhir_date();
        debug_assert!(s.len() == 10 && day > 0 && month > 0);
        for (sep, v) in [('T', hour), (':', minute), (':', second)] {
            s.push(sep);
            push_digits(&mut s, u32::from(v), 2);
        }
        if let Some(ms) = self.millis {
            s.push('.');
            push_digits(&mut s, u32::from(ms), 3);
        }
        if offset == 0 && self.offset_minutes.is_none() {
            s.push('Z');
        } else {
            s.push(if offset < 0 { '-' } else { '+' });
            push_digits(&mut s, u32::from(offset.unsigned_abs() / 60), 2);
            s.push(':');
            push_digits(&mut s, u32::from(offset.unsigned_abs() % 60), 2);
        }
        s
    }

    /// FHIR `instant` (a time to at least the hour, with an offset), or `None` when only a date was
    /// sent: an instant cannot be made up from a day-precision value.
    pub fn fhir_instant(&self, rule: TimeZoneRule) -> Option<String> {
        (self.month.is_some() && self.day.is_some() && self.hour.is_some()).then(|| self.fhir_date_time(rule))
    }

    /// Milliseconds since 1970-01-01 UTC of a time given to the hour at least (its offset, else
    /// UTC; missing minutes and seconds are 0); `None` for a date alone.
    pub fn to_unix_ms(&self) -> Option<i64> {
        let (month, day, hour) = (i64::from(self.month?), i64::from(self.day?), i64::from(self.hour?));
        // Days from civil (Howard Hinnant's algorithm), the inverse of `from_unix_ms`.
        let y = i64::from(self.year) - i64::from(month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        let secs = days * 86_400 + hour * 3600 + i64::from(self.minute.unwrap_or(0)) * 60 + i64::from(self.second.unwrap_or(0));
        let offset = i64::from(self.offset_minutes.unwrap_or(0)) * 60;
        Some((secs - offset) * 1000 + i64::from(self.millis.unwrap_or(0)))
    }

    /// HL7 v2 DTM rendering at the precision received.
    /// The UTC time `ms` milliseconds after 1970-01-01, to the second, offset +0000; `None`
    /// outside years 0–9999.
    pub fn from_unix_ms(ms: i64) -> Option<Self> {
        let secs = ms.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Some(Self {
            year: u16::try_from(year).ok().filter(|y| *y <= 9999)?,
            month: Some(month as u8),
            day: Some(day as u8),
            hour: Some((rem / 3600) as u8),
            minute: Some((rem % 3600 / 60) as u8),
            second: Some((rem % 60) as u8),
            millis: None,
            offset_minutes: Some(0),
        })
    }

    pub fn hl7(&self) -> String {
        let mut s = format!("{:04}", self.year);
        for part in [self.month, self.day, self.hour, self.minute, self.second].into_iter().map_while(|p| p) {
            s.push_str(&format!("{part:02}"));
        }
        if let Some(ms) = self.millis {
            s.push_str(&format!(".{ms:03}"));
        }
        if let Some(o) = self.offset_minutes {
            let sign = if o < 0 { '-' } else { '+' };
            s.push_str(&format!("{sign}{:02}{:02}", o.abs() / 60, o.abs() % 60));
        }
        s
    }

    /// Parses a FHIR date or dateTime (`YYYY[-MM[-DD[Thh:mm:ss[.sss](Z|±hh:mm)]]]`) exactly as
    /// FHIR writes them: `19800102` (an HL7 v2 date) and a time without its offset are refused.
    pub fn parse_fhir(s: &str) -> Option<Self> {
        let (date, time) = match s.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (s, None),
        };
        let b = date.as_bytes();
        let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let date_shape = match b.len() {
            4 => digits(0..4),
            7 => digits(0..4) && b[4] == b'-' && digits(5..7),
            10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
            _ => false,
        };
        let time_shape = time.is_none_or(|t| {
            let t = t.as_bytes();
            let offset_ok = t.last() == Some(&b'Z') || (t.len() > 6 && matches!(t[t.len() - 6], b'+' | b'-') && t[t.len() - 3] == b':');
            b.len() == 10 && t.len() >= 9 && t[2] == b':' && t[5] == b':' && offset_ok
        });
        if !date_shape || !time_shape {
            return None;
        }
        let compact: String = date.split('-').collect();
        let mut dt = Self::parse_hl7(&compact)?;
        if let Some(t) = time {
            let (clock, offset) = match t.find(['Z', '+', '-']) {
                Some(i) => (&t[..i], &t[i..]),
                None => (t, ""),
            };
            let (hms, frac) = match clock.split_once('.') {
                Some((a, b)) => (a, Some(b)),
                None => (clock, None),
            };
            let mut text = format!("{compact}{}", hms.replace(':', ""));
            if let Some(f) = frac {
                // FHIR allows any number of fraction digits; HL7 keeps four. Only digits are
                // taken, so a non-ASCII byte can never split a character.
                if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                text.push('.');
                text.push_str(&f[..f.len().min(4)]);
            }
            match offset {
                "Z" => text.push_str("+0000"),
                "" => {}
                o => text.push_str(&o.replace(':', "")),
            }
            dt = Self::parse_hl7(&text)?;
        }
        Some(dt)
    }
}

/// Appends `value` zero-padded to `width` digits (no formatting machinery on the hot path).
fn push_digits(s: &mut String, value: u32, width: u32) {
    let mut div = 10u32.pow(width.saturating_sub(1));
    let mut v = value % (div * 10);
    while div > 0 {
        s.push(char::from(b'0' + (v / div) as u8));
        v %= div;
        div /= 10;
    }
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of week, 0 = Sunday (Sakamoto's method).
fn weekday(y: u16, m: u8, d: u8) -> u8 {
    const T: [u16; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if m < 3 { y - 1 } else { y };
    ((y + y / 4 - y / 100 + y / 400 + T[usize::from(m - 1)] + u16::from(d)) % 7) as u8
}

fn last_sunday(y: u16, m: u8) -> u8 {
    let last = days_in_month(y, m);
    last - weekday(y, m, last)
}

impl TimeZoneRule {
    /// Offset in minutes for a local wall-clock time (an ambiguous autumn hour resolves to summer time).
    pub fn offset_minutes(self, year: u16, month: u8, day: u8, hour: u8) -> i16 {
        match self {
            Self::Utc => 0,
            Self::CentralEurope => {
                let start = last_sunday(year, 3);
                let end = last_sunday(year, 10);
                let summer = match month {
                    4..=9 => true,
                    3 => day > start || (day == start && hour >= 2),
                    10 => day < end || (day == end && hour < 3),
                    _ => false,
                };
                if summer { 120 } else { 60 }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_milliseconds_round_trip_and_honour_the_offset() {
        for ms in [0_i64, 1_795_132_800_000, 951_782_400_000, -86_400_000, 4_102_444_800_123] {
            let t = PartialDateTime::from_unix_ms(ms).expect("in range");
            assert_eq!(PartialDateTime { millis: Some((ms.rem_euclid(1000)) as u16), ..t }.to_unix_ms(), Some(ms), "{ms}");
        }
        let paris = PartialDateTime::parse_fhir("2026-11-20T01:00:00+01:00").expect("fhir");
        assert_eq!(paris.to_unix_ms(), Some(1_795_132_800_000));
        assert_eq!(PartialDateTime::parse_hl7("20261120").and_then(|d| d.to_unix_ms()), None, "a date alone is no instant");
    }

    #[test]
    fn parses_every_precision_and_offsets() {
        let d = PartialDateTime::parse_hl7("19670415").expect("date");
        assert_eq!(d.fhir_date(), "1967-04-15");
        assert_eq!(d.fhir_date_time(TimeZoneRule::CentralEurope), "1967-04-15");
        let t = PartialDateTime::parse_hl7("20261122143005.123+0100").expect("ts");
        assert_eq!(t.fhir_date_time(TimeZoneRule::Utc), "2026-11-22T14:30:05.123+01:00");
        assert_eq!(t.hl7(), "20261122143005.123+0100");
        assert_eq!(PartialDateTime::parse_hl7("1980").map(|d| d.fhir_date()), Some("1980".into()));
        for bad in ["", "19671", "19671345", "20250230", "2025-01-01", "20250101250000", "20250101+01"] {
            assert!(PartialDateTime::parse_hl7(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn local_times_get_the_central_european_offset_of_their_season() {
        let winter = PartialDateTime::parse_hl7("202601151030").expect("ts");
        assert_eq!(winter.fhir_date_time(TimeZoneRule::CentralEurope), "2026-01-15T10:30:00+01:00");
        let summer = PartialDateTime::parse_hl7("20260715103000").expect("ts");
        assert_eq!(summer.fhir_date_time(TimeZoneRule::CentralEurope), "2026-07-15T10:30:00+02:00");
        // 2026: summer time starts Sunday 29 March, ends Sunday 25 October.
        assert_eq!(TimeZoneRule::CentralEurope.offset_minutes(2026, 3, 29, 1), 60);
        assert_eq!(TimeZoneRule::CentralEurope.offset_minutes(2026, 3, 29, 3), 120);
        assert_eq!(TimeZoneRule::CentralEurope.offset_minutes(2026, 10, 25, 2), 120);
        assert_eq!(TimeZoneRule::CentralEurope.offset_minutes(2026, 10, 25, 3), 60);
        assert_eq!(winter.fhir_date_time(TimeZoneRule::Utc), "2026-01-15T10:30:00Z");
    }

    #[test]
    fn fhir_round_trip() {
        let t = PartialDateTime::parse_fhir("2026-07-15T10:30:00+02:00").expect("fhir");
        assert_eq!(t.hl7(), "20260715103000+0200");
        assert_eq!(PartialDateTime::parse_fhir("1967-04").map(|d| d.hl7()), Some("196704".into()));
        assert_eq!(PartialDateTime::parse_fhir("2026-07-15T10:30:00.123456Z").map(|d| d.hl7()), Some("20260715103000.123+0000".into()));
        for bad in ["2026-07-15T10:30:00.ééé+02:00", "2026-07-15T10:30:00.+02:00", "2026-07-15T1é:30:00Z", "é", "2026-é"] {
            assert!(PartialDateTime::parse_fhir(bad).is_none(), "{bad}");
        }
    }
}
