//! The grammar of durations shared by the attribute macros (at compile time) and the runtime (the
//! configuration file and environment variables, and [`host::parse_duration`] for users' own
//! settings): one parser, so a literal means the same thing, or fails with the same words,
//! wherever it is written.
//!
//! A duration is a number and a unit: `ms`, `s`, `m` (minutes), `h`, `d`, `w`, or spelt out
//! (`sec`, `min`, `hours`, `days`, `weeks`), combined like `"1m 30s"`. A missing or unknown unit,
//! less than 1 ms or more than 365 days is an error, and so are `M` (months, easily meant as
//! minutes), months and years (no fixed length), uppercase units (`"30S"`), and clock or ISO 8601
//! notation (`"00:00:30"`, `"PT30S"`): each error names the intended spelling.
//!
//! [`host::parse_duration`]: https://docs.rs/host-core/latest/host/fn.parse_duration.html
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::time::Duration;

/// The shortest duration: the resolution of tokio's timer.
pub const MIN: Duration = Duration::from_millis(1);
/// The longest duration; longer is taken for a mistake (a wrong unit, an extra digit).
pub const MAX: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The grammar, as the error messages state it.
pub const UNITS: &str = "units: `ms`, `s`, `m`, `h`, `d`, `w` (or spelled out: `sec`, `min`, `hours`, `days`, …), \
                         combined like `\"1m 30s\"`";

/// Why a duration does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurationError {
    /// The duration is zero. Where zero means "none" (an initial delay, a jitter), callers may
    /// accept it; the macros reject it with a message naming the option.
    Zero,
    /// The duration is negative.
    Negative,
    /// Anything else; the message says what is wrong and the likely intended spelling.
    Invalid(String),
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationError::Zero => f.write_str("the duration must be greater than zero"),
            DurationError::Negative => f.write_str("the duration cannot be negative"),
            DurationError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses a duration in the grammar above, between [`MIN`] and [`MAX`].
///
/// ```
/// use std::time::Duration;
/// assert_eq!(host_syntax::parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
/// assert!(host_syntax::parse_duration("5M").unwrap_err().to_string().contains("did you mean `\"5m\"`"));
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let invalid = DurationError::Invalid;
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(invalid(format!(
            "`{text:?}` has no unit; did you mean `\"{trimmed}s\"`?"
        )));
    }
    if trimmed.starts_with('-') {
        return Err(DurationError::Negative);
    }
    if let Some(message) = other_notation(trimmed).or_else(|| confusable_unit(trimmed)) {
        return Err(invalid(message));
    }
    let duration = humantime::parse_duration(text).map_err(|e| invalid(describe(text, &e)))?;
    if duration.is_zero() {
        return Err(DurationError::Zero);
    }
    if duration < MIN {
        return Err(invalid(format!(
            "`{text:?}` is below 1 ms, the resolution of tokio's timer; use at least `\"1ms\"`"
        )));
    }
    if duration > MAX {
        return Err(invalid(format!(
            "`{text:?}` is longer than 365 days, which is surely a mistake; check the number and the unit"
        )));
    }
    Ok(duration)
}

/// The closest of `candidates` to `given` (case-insensitive, one edit per three characters, at
/// least one), for "did you mean" hints: option names in the macros, unknown service names in
/// configuration, time zones.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given = given.to_ascii_lowercase();
    let limit = (given.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&given, &c.to_ascii_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, counting an adjacent transposition as one edit (`fixed_dealy` is one
/// edit from `fixed_delay`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back (for transpositions), previous, current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `"00:00:30"` (clock notation) and `"PT30S"` (ISO 8601): rejected with the same duration in
/// this grammar.
fn other_notation(text: &str) -> Option<String> {
    let (seconds, notation) = if text.contains(':') {
        (clock_seconds(text), "clock notation")
    } else if text.len() > 1 && text.starts_with(['P', 'p']) {
        (iso_seconds(&text[1..]), "ISO 8601 notation")
    } else {
        return None;
    };
    let hint = match seconds {
        Some(s) if s > 0 => {
            let written = humantime::format_duration(Duration::from_secs(s)).to_string();
            format!("did you mean `\"{written}\"`?")
        }
        _ => "write it like `\"30s\"` or `\"1h 30m\"`".to_owned(),
    };
    Some(format!(
        "`{text:?}` is in {notation}; durations here are a number and a unit: {hint} ({UNITS})"
    ))
}

/// `h:m:s` or `m:s`, each part a whole number.
fn clock_seconds(text: &str) -> Option<u64> {
    let parts: Vec<u64> = text.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let weights: &[u64] = match parts.len() {
        2 => &[60, 1],
        3 => &[3600, 60, 1],
        _ => return None,
    };
    parts
        .iter()
        .zip(weights)
        .try_fold(0u64, |sum, (p, w)| sum.checked_add(p.checked_mul(*w)?))
}

/// The part of an ISO 8601 duration after `P`: `T30S`, `1DT2H`, `2W`; whole numbers only.
fn iso_seconds(text: &str) -> Option<u64> {
    let upper = text.to_ascii_uppercase();
    let (date, time) = upper.split_once('T').unwrap_or((&upper, ""));
    let mut total = 0u64;
    for (part, units) in [
        (date, &[('W', 604_800u64), ('D', 86_400)][..]),
        (time, &[('H', 3600), ('M', 60), ('S', 1)][..]),
    ] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let weight = units.iter().find(|(u, _)| *u == c)?.1;
            let n: u64 = number.parse().ok()?;
            total = total.checked_add(n.checked_mul(weight)?)?;
            number.clear();
        }
        if !number.is_empty() {
            return None;
        }
    }
    Some(total)
}

/// Units the grammar reads differently from what was likely meant: `M` is months (not minutes),
/// months and years have no fixed length, and units are case-sensitive (`"30S"`).
fn confusable_unit(text: &str) -> Option<String> {
    const KNOWN: [&str; 32] = [
        "nanos", "nsec", "ns", "usec", "us", "µs", "millis", "msec", "ms", "seconds", "second", "secs", "sec", "s",
        "minutes", "minute", "min", "mins", "m", "hours", "hour", "hr", "hrs", "h", "days", "day", "d", "weeks",
        "week", "wk", "wks", "w",
    ];
    const CALENDAR: [&str; 8] = ["months", "month", "years", "year", "yr", "yrs", "y", "M"];
    // (number, unit) pairs, as humantime reads them: digits, then letters, spaces optional.
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut rest = text;
    while let Some(number_end) = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c.is_whitespace())) {
        let number = rest[..number_end].trim();
        let after = &rest[number_end..];
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(after.len());
        pairs.push((number, &after[..unit_end]));
        rest = &after[unit_end..];
    }
    if let Some((number, _)) = pairs.iter().find(|(_, unit)| *unit == "M") {
        return Some(format!(
            "`{text:?}`: `M` is the unit for months, easily mistaken for `m` (minutes); did you mean \
             `\"{number}m\"` or `\"{number}min\"`? For a calendar month use `cron = \"0 0 1 * *\"`; for a fixed \
             length, write days (`\"30d\"`)"
        ));
    }
    if let Some((_, unit)) = pairs.iter().find(|(_, unit)| CALENDAR.contains(unit)) {
        return Some(format!(
            "`{text:?}`: `{unit}` has no fixed length (the duration grammar counts a month as 30.44 days, a year as \
             365.25); write days, like `\"30d\"`, or use `cron = \"0 0 1 * *\"` for the first of each month"
        ));
    }
    let is_known = |unit: &str| KNOWN.contains(&unit);
    if pairs
        .iter()
        .any(|(_, unit)| !is_known(unit) && is_known(&unit.to_lowercase()))
    {
        let lowered: Vec<String> = pairs
            .iter()
            .map(|(number, unit)| format!("{number}{}", unit.to_lowercase()))
            .collect();
        return Some(format!(
            "`{text:?}`: units are lowercase; did you mean `\"{}\"`?",
            lowered.join(" ")
        ));
    }
    None
}

/// humantime's reason, with the list of units where it helps.
fn describe(text: &str, error: &humantime::DurationError) -> String {
    match error {
        humantime::DurationError::UnknownUnit { unit, .. } if !unit.is_empty() => {
            format!("invalid duration `{text:?}`: unknown time unit `{unit}`; {UNITS}")
        }
        humantime::DurationError::Empty => format!("empty duration; write one like `\"30s\"`; {UNITS}"),
        other => format!("invalid duration `{text:?}`: {other}; {UNITS}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances_count_a_transposition_as_one_edit() {
        assert_eq!(edit_distance("every", "every"), 0);
        assert_eq!(edit_distance("evry", "every"), 1);
        assert_eq!(edit_distance("evrey", "every"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    fn parse(text: &str) -> Result<Duration, String> {
        parse_duration(text).map_err(|e| e.to_string())
    }

    #[test]
    fn valid() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("365d"), Ok(MAX));
        assert_eq!(parse("1ms"), Ok(MIN));
        assert_eq!(parse("2 weeks"), Ok(Duration::from_secs(14 * 86400)));
    }

    #[test]
    fn invalid() {
        assert_eq!(
            parse("30").unwrap_err(),
            "`\"30\"` has no unit; did you mean `\"30s\"`?"
        );
        assert_eq!(parse_duration("0s"), Err(DurationError::Zero));
        assert_eq!(parse_duration("-5s"), Err(DurationError::Negative));
        assert!(parse("500us").unwrap_err().contains("below 1 ms"));
        assert!(parse("366d").unwrap_err().contains("longer than 365 days"));
        assert!(
            parse("5M")
                .unwrap_err()
                .contains("did you mean `\"5m\"` or `\"5min\"`?")
        );
        assert!(parse("30S").unwrap_err().ends_with("did you mean `\"30s\"`?"));
        assert!(parse("PT30S").unwrap_err().contains("ISO 8601 notation"));
        assert!(parse("00:00:30").unwrap_err().contains("did you mean `\"30s\"`?"));
        assert!(parse("").unwrap_err().contains("empty duration"));
    }

    #[test]
    fn suggestions() {
        let names = ["cleanup", "report", "mailer"];
        assert_eq!(did_you_mean("clenup", names), Some("cleanup"));
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
