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
    let duration = humantime::parse_duration(&text).map_err(|e| error(describe(&text, &e)))?;
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
}
