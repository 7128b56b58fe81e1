//! Duration literals (`"250ms"`, `"30s"`, `"1m 30s"`, `"1h"`, `"2d"`), parsed at expansion.

use std::time::Duration;

use syn::LitStr;

/// The resolution of tokio's timer: shorter durations cannot be honoured.
const MIN: Duration = Duration::from_millis(1);
/// Longer than this is taken for a mistake (a wrong unit, an extra digit).
const MAX: Duration = Duration::from_secs(365 * 24 * 60 * 60);

const UNITS: &str = "units: `ms`, `s`, `m`, `h`, `d`, `w` (or spelled out: `sec`, `min`, `hours`, `days`, …), \
                     combined like `\"1m 30s\"`";

/// Parses the duration literal given to `key`; every error is on the literal and says the fix.
pub(crate) fn parse(lit: &LitStr, key: &str) -> syn::Result<Duration> {
    let text = lit.value();
    let error = |message: String| syn::Error::new(lit.span(), message);
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(error(format!("`{text:?}` has no unit; did you mean `\"{trimmed}s\"`?")));
    }
    if trimmed.starts_with('-') {
        return Err(error(format!("`{key}` cannot be negative")));
    }
    if let Some(message) = other_notation(trimmed).or_else(|| confusable_unit(trimmed)) {
        return Err(error(message));
    }
    let duration = humantime::parse_duration(&text).map_err(|e| error(describe(&text, &e)))?;
    if duration.is_zero() && key == "initial_delay" {
        return Err(error(
            "`initial_delay = \"0s\"` is the default: the first run already happens at start; remove \
             `initial_delay`"
                .to_owned(),
        ));
    }
    if duration.is_zero() {
        return Err(error(format!("`{key}` must be greater than zero")));
    }
    if duration < MIN {
        return Err(error(format!(
            "`{text:?}` is below 1 ms, the resolution of tokio's timer; use at least `\"1ms\"`"
        )));
    }
    if duration > MAX {
        return Err(error(format!(
            "`{text:?}` is longer than 365 days, which is surely a mistake; check the number and the unit"
        )));
    }
    Ok(duration)
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

/// The literal's duration in nanoseconds, for `Duration::from_nanos` in generated code.
pub(crate) fn nanos(duration: Duration) -> u64 {
    // Durations are capped at `MAX`, far below `u64::MAX` nanoseconds (584 years).
    u64::try_from(duration.as_nanos()).expect("durations are at most 365 days")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Duration, String> {
        let lit = LitStr::new(text, proc_macro2::Span::call_site());
        parse(&lit, "every").map_err(|e| e.to_string())
    }

    #[test]
    fn valid() {
        assert_eq!(parse_str("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_str("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_str("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_str("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_str("2d"), Ok(Duration::from_secs(2 * 86400)));
        assert_eq!(parse_str("365d"), Ok(MAX));
        assert_eq!(parse_str("1ms"), Ok(MIN));
    }

    #[test]
    fn invalid() {
        assert_eq!(
            parse_str("30").unwrap_err(),
            "`\"30\"` has no unit; did you mean `\"30s\"`?"
        );
        assert_eq!(
            parse_str(" 1.5 ").unwrap_err(),
            "`\" 1.5 \"` has no unit; did you mean `\"1.5s\"`?"
        );
        assert!(
            parse_str("30 sekunden")
                .unwrap_err()
                .contains("unknown time unit `sekunden`")
        );
        assert_eq!(parse_str("0s").unwrap_err(), "`every` must be greater than zero");
        assert!(parse_str("500us").unwrap_err().contains("below 1 ms"));
        assert!(parse_str("366d").unwrap_err().contains("longer than 365 days"));
        assert!(parse_str("-5s").unwrap_err().contains("negative"));
        assert!(parse_str("").unwrap_err().contains("empty duration"));
    }

    /// Issue 10: every literal means one thing or is an error with the likely intended spelling.
    #[test]
    fn ambiguous_units_and_other_notations() {
        let m = parse_str("5M").unwrap_err();
        assert!(m.contains("`M` is the unit for months"), "{m}");
        assert!(m.contains("did you mean `\"5m\"` or `\"5min\"`?"), "{m}");
        assert!(parse_str("1m 5M").unwrap_err().contains("`\"5m\"`"));
        assert!(
            parse_str("2months")
                .unwrap_err()
                .contains("`months` has no fixed length")
        );
        assert!(parse_str("1y").unwrap_err().contains("`y` has no fixed length"));
        assert!(
            parse_str("30S")
                .unwrap_err()
                .ends_with("units are lowercase; did you mean `\"30s\"`?")
        );
        assert!(
            parse_str("1H 30Min")
                .unwrap_err()
                .ends_with("did you mean `\"1h 30min\"`?")
        );
        assert!(
            parse_str("00:00:30")
                .unwrap_err()
                .contains("clock notation; durations here are a number and a unit: did you mean `\"30s\"`?")
        );
        assert!(parse_str("01:30").unwrap_err().contains("did you mean `\"1m 30s\"`?"));
        assert!(
            parse_str("PT30S")
                .unwrap_err()
                .contains("ISO 8601 notation; durations here are a number and a unit: did you mean `\"30s\"`?")
        );
        assert!(parse_str("P1DT2H").unwrap_err().contains("did you mean `\"1day 2h\"`?"));
        assert!(parse_str("PT0S").unwrap_err().contains("write it like"));
        // lowercase minutes and spelt-out units are fine
        assert_eq!(parse_str("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_str("5min"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_str("2 weeks"), Ok(Duration::from_secs(14 * 86400)));
        let lit = LitStr::new("0s", proc_macro2::Span::call_site());
        let zero = parse(&lit, "initial_delay").unwrap_err().to_string();
        assert!(
            zero.contains("the first run already happens at start; remove `initial_delay`"),
            "{zero}"
        );
    }
}
