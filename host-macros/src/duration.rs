//! Duration literals (`"250ms"`, `"30s"`, `"1m 30s"`, `"1h"`, `"2d"`), parsed at expansion with
//! the grammar the runtime's configuration uses too (`host-syntax`).

use std::time::Duration;

use host_syntax::DurationError;
use syn::LitStr;

/// Parses the duration literal given to `key` with the grammar shared with the runtime
/// (`host-syntax`); every error is on the literal and says the fix.
pub(crate) fn parse(lit: &LitStr, key: &str) -> syn::Result<Duration> {
    let error = |message: String| syn::Error::new(lit.span(), message);
    host_syntax::parse_duration(&lit.value()).map_err(|e| match e {
        DurationError::Zero if key == "initial_delay" => error(
            "`initial_delay = \"0s\"` is the default: the first run already happens at start; remove \
             `initial_delay`"
                .to_owned(),
        ),
        DurationError::Zero => error(format!("`{key}` must be greater than zero")),
        DurationError::Negative => error(format!("`{key}` cannot be negative")),
        other => error(other.to_string()),
    })
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
        assert_eq!(parse_str("365d"), Ok(host_syntax::MAX));
        assert_eq!(parse_str("1ms"), Ok(host_syntax::MIN));
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
