//! Cron checks shared by `host-core` (at [`Builder::build`]) and `host-macros` (at compile time),
//! so that both accept and reject exactly the same expressions with the same messages.
//!
//! [`check`] parses an expression with [croner] and adds what croner does not say:
//!
//! - **Field errors name the field**, the bad value and the valid range, with a did-you-mean for
//!   misspelt names (`MON-FRU` → `MON-FRI`).
//! - **5 or 6 fields** (`minute hour day month weekday`, optionally `second` first). croner also
//!   accepts a 7th field, a year; host rejects it: a periodic service runs for the life of the
//!   process, and a year field mostly yields expressions that have stopped firing.
//! - **An expression that can never fire is an error** (`0 0 30 2 *`, 30 February).
//! - **The shortest interval between two runs** ([`Checked::shortest_interval`]), which a
//!   schedule's jitter must stay below.
//!
//! # How the shortest interval is computed
//!
//! Exactly, not by sampling. The times of day an expression fires at are the product of its hour,
//! minute and second fields, so the shortest gap within a day follows from each field's shortest
//! step (no need to list up to 86 400 times). The days it fires on repeat with the Gregorian
//! calendar's 400-year cycle (146 097 days, a whole number of weeks, so weekdays repeat too), and
//! which days of a month fire depends only on the month's length and the weekday of its first day:
//! 28 month shapes, each asked of croner's own day matcher once, so `L`, `W`, `#` and the
//! day-of-month/weekday OR rule count exactly as the scheduler applies them. One walk over the
//! cycle's 4 800 months then decides "never fires" and the shortest gap between two firing days
//! (stopping early at two consecutive days). The shortest interval is the smaller of the gap
//! within a day and the gap between days plus the first time of day minus the last.
//!
//! Cost, measured on a shared 2-core machine: at most about 1 ms per expression in a debug build
//! (what the proc macro runs at compile time), about 55 µs in release (what `build()` runs).
//!
//! The interval is in wall-clock time. In a time zone with daylight-saving time, a gap that spans
//! a change can be shorter in real time by the shift (usually one hour).
//!
//! [`Builder::build`]: https://docs.rs/host-core/latest/host/struct.Builder.html#method.build
//! [croner]: https://docs.rs/croner
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::time::Duration;

use croner::Cron;
use croner::Weekday;
use croner::parser::{CronParser, Seconds, Year};

/// A valid cron expression and what the host needs to know about it.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The parsed expression.
    pub cron: Cron,
    /// The shortest wall-clock interval between two consecutive runs.
    pub shortest_interval: Duration,
}

/// One of the fields of a cron expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The optional first field of a 6-field expression.
    Second,
    /// Minute of the hour.
    Minute,
    /// Hour of the day.
    Hour,
    /// Day of the month.
    Day,
    /// Month of the year.
    Month,
    /// Day of the week.
    Weekday,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::Day => "day-of-month",
            Field::Month => "month",
            Field::Weekday => "weekday",
        }
    }

    fn range(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::Day => (1, 31),
            Field::Month => (1, 12),
            Field::Weekday => (0, 7),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTHS,
            Field::Weekday => &WEEKDAYS,
            _ => &[],
        }
    }

    /// What the field accepts, for messages.
    fn valid(self) -> &'static str {
        match self {
            Field::Second => "seconds go from 0 to 59",
            Field::Minute => "minutes go from 0 to 59",
            Field::Hour => "hours go from 0 to 23",
            Field::Day => {
                "days of the month go from 1 to 31 (also `L`: the last day, `15W`: the weekday nearest the 15th)"
            }
            Field::Month => "months go from 1 to 12, or JAN to DEC",
            Field::Weekday => {
                "weekdays go from 0 to 7 (0 and 7 are Sunday), or SUN to SAT (also `5L`: the last Friday, `1#2`: the second Monday)"
            }
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const NICKNAMES: [&str; 6] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"];

/// The fields, in order, of a 5-field expression.
const FIVE: [Field; 5] = [Field::Minute, Field::Hour, Field::Day, Field::Month, Field::Weekday];
/// The fields, in order, of a 6-field expression.
const SIX: [Field; 6] = [
    Field::Second,
    Field::Minute,
    Field::Hour,
    Field::Day,
    Field::Month,
    Field::Weekday,
];

/// Days in the Gregorian calendar's 400-year cycle: 20 871 whole weeks.
const CYCLE_DAYS: u64 = 146_097;
const DAY_SECONDS: u64 = 86_400;

/// Why a cron expression is rejected. Its `Display` is a complete message that says the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CronError {
    /// The expression is empty.
    Empty,
    /// Not 5 or 6 fields.
    FieldCount(usize),
    /// 7 fields: the 7th, a year, is not supported.
    YearField,
    /// An `@name` that is not one of the nicknames.
    UnknownNickname {
        /// What was written.
        given: String,
        /// The likely intended nickname.
        suggestion: Option<&'static str>,
    },
    /// A number outside the field's range.
    OutOfRange {
        /// The field.
        field: Field,
        /// The field as written.
        text: String,
        /// The number.
        value: String,
    },
    /// A word that is not a name the field accepts.
    UnknownName {
        /// The field.
        field: Field,
        /// The field as written.
        text: String,
        /// The word.
        value: String,
        /// The field with the word replaced by the likely intended name.
        suggestion: Option<String>,
    },
    /// Something else croner rejected in one field.
    Syntax {
        /// The field.
        field: Field,
        /// The field as written.
        text: String,
        /// Why.
        reason: String,
    },
    /// croner rejected the expression as a whole.
    Parser(String),
    /// No date in the calendar matches the day, month and weekday fields together.
    NeverFires,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHAPE: &str = "write 5 fields, `minute hour day month weekday` (like `\"0 3 * * *\"`, 03:00 every \
                             day), or 6 with `second` first";
        match self {
            CronError::Empty => write!(f, "the cron expression is empty; {SHAPE}"),
            CronError::FieldCount(n) => write!(f, "a cron expression has 5 or 6 fields, not {n}; {SHAPE}"),
            CronError::YearField => write!(
                f,
                "a 7th field (a year) is not supported: a periodic service runs for the life of the process; \
                 remove it and {SHAPE}"
            ),
            CronError::UnknownNickname { given, suggestion } => {
                write!(f, "unknown nickname `{given}`; ")?;
                if let Some(s) = suggestion {
                    write!(f, "did you mean `{s}`? ")?;
                }
                write!(f, "the nicknames are {}", NICKNAMES.join(", "))?;
                if given.to_ascii_lowercase().starts_with("@every") {
                    f.write_str("; for a fixed interval, use an `every` schedule instead of cron")?;
                }
                Ok(())
            }
            CronError::OutOfRange { field, text, value } => {
                let (min, max) = field.range();
                let hint = match value.parse::<u64>() {
                    Ok(v) if v > u64::from(max) => format!("; the largest is `{max}`"),
                    _ => format!("; the smallest is `{min}`"),
                };
                write!(
                    f,
                    "{}, which is out of range: {}{hint}",
                    field_has(*field, text, value),
                    field.valid()
                )
            }
            CronError::UnknownName {
                field,
                text,
                value,
                suggestion,
            } => {
                write!(f, "{}, which ", field_has(*field, text, value))?;
                if field.names().is_empty() {
                    write!(f, "is not a number; ")?;
                } else {
                    write!(f, "is not a {field} name; ")?;
                }
                if let Some(s) = suggestion {
                    write!(f, "did you mean `{s}`? ")?;
                }
                f.write_str(field.valid())
            }
            CronError::Syntax { field, text, reason } => {
                write!(f, "the {field} field `{text}` is invalid: {reason}; {}", field.valid())
            }
            CronError::Parser(reason) => write!(
                f,
                "{reason} (from the cron parser); check each field of `minute hour day month weekday`, or \
                 `second minute hour day month weekday`"
            ),
            CronError::NeverFires => f.write_str(
                "never fires: no date matches its day-of-month, month and weekday fields \
                 together (like day 30 in February, or day 31 in a 30-day month); fix the day or the month",
            ),
        }
    }
}

impl std::error::Error for CronError {}

/// `the minute field has `61``, or `the weekday field `MON-FRU` has `FRU``.
fn field_has(field: Field, text: &str, value: &str) -> String {
    if text == value {
        format!("the {field} field has `{value}`")
    } else {
        format!("the {field} field `{text}` has `{value}`")
    }
}

/// Checks `expr`; see the [crate] documentation for what is checked and how.
pub fn check(expr: &str) -> Result<Checked, CronError> {
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Err(CronError::Empty);
    }
    if trimmed.starts_with('@') {
        let lower = trimmed.to_ascii_lowercase();
        if !NICKNAMES.contains(&lower.as_str()) {
            return Err(CronError::UnknownNickname {
                given: trimmed.to_owned(),
                suggestion: did_you_mean(&lower, &NICKNAMES),
            });
        }
    } else {
        let parts: Vec<&str> = trimmed.split_whitespace().collect();
        let fields: &[Field] = match parts.len() {
            5 => &FIVE,
            6 => &SIX,
            7 => return Err(CronError::YearField),
            n => return Err(CronError::FieldCount(n)),
        };
        for (field, text) in fields.iter().zip(&parts) {
            check_field(*field, text)?;
        }
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(trimmed)
        .map_err(|e| CronError::Parser(e.to_string().trim_end_matches('.').to_owned()))?;
    let shortest_interval = shortest_interval(&cron)?;
    Ok(Checked {
        cron,
        shortest_interval,
    })
}

/// Checks every value of one field: numbers in range, names known.
fn check_field(field: Field, text: &str) -> Result<(), CronError> {
    let syntax = |reason: &str| CronError::Syntax {
        field,
        text: text.to_owned(),
        reason: reason.to_owned(),
    };
    let body = match field {
        Field::Weekday => text.strip_prefix('+').unwrap_or(text),
        _ => text,
    };
    for part in body.split(',') {
        if part.is_empty() {
            return Err(syntax("it has an empty list item; remove the extra comma"));
        }
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(0) => return Err(syntax("a step of `/0` never advances; use `/1` or more")),
                Ok(_) => {}
                Err(_) => return Err(syntax(&format!("the step `/{step}` is not a positive number"))),
            }
        }
        if range == "*" {
            continue;
        }
        if range == "?" {
            if matches!(field, Field::Day | Field::Weekday) {
                continue;
            }
            return Err(syntax("`?` only goes in the day-of-month or weekday field; use `*`"));
        }
        let bounds: Vec<&str> = range.split('-').collect();
        if bounds.len() > 1 {
            if bounds.len() > 2 || bounds.iter().any(|b| b.is_empty()) {
                return Err(syntax(&format!(
                    "the range `{range}` needs exactly two ends, like `1-5`"
                )));
            }
            if bounds.iter().any(|b| b.contains(['L', 'l', 'W', 'w', '#'])) {
                return Err(syntax(
                    "`L`, `W` and `#` cannot be the end of a range; list the days instead",
                ));
            }
        }
        for bound in &bounds {
            check_value(field, text, bound)?;
        }
        if let [Ok(start), Ok(end)] = [bounds[0].parse::<u32>(), bounds[bounds.len() - 1].parse::<u32>()] {
            if start > end {
                let (min, max) = field.range();
                return Err(syntax(&format!(
                    "the range `{range}` goes backwards; write `{end}-{start}`, or, to wrap around, \
                     `{start}-{max},{min}-{end}`"
                )));
            }
        }
    }
    Ok(())
}

/// One number or name, with the modifiers its field allows (`15W`, `L`, `5L`, `1#2`).
fn check_value(field: Field, text: &str, value: &str) -> Result<(), CronError> {
    let value = match field {
        Field::Day if matches!(value, "L" | "l" | "LW" | "lw") => return Ok(()),
        Field::Day => value.strip_suffix(['W', 'w']).unwrap_or(value),
        Field::Weekday if matches!(value, "L" | "l") => return Ok(()),
        Field::Weekday => {
            // `5L` (the last Friday) is croner's `5#L`.
            let value = match value.split_once('#') {
                Some(_) => value,
                None => value.strip_suffix(['L', 'l']).unwrap_or(value),
            };
            match value.split_once('#') {
                Some((day, nth)) => {
                    if !matches!(nth, "1" | "2" | "3" | "4" | "5" | "L" | "l") {
                        return Err(CronError::Syntax {
                            field,
                            text: text.to_owned(),
                            reason: format!("`#{nth}` is not an occurrence in a month; use `#1` to `#5`"),
                        });
                    }
                    day
                }
                None => value,
            }
        }
        _ => value,
    };
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let (min, max) = field.range();
        return match value.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(CronError::OutOfRange {
                field,
                text: text.to_owned(),
                value: value.to_owned(),
            }),
        };
    }
    let upper = value.to_ascii_uppercase();
    if field.names().contains(&upper.as_str()) {
        return Ok(());
    }
    let suggestion = did_you_mean(&upper, field.names()).map(|name| text.replacen(value, name, 1));
    Err(CronError::UnknownName {
        field,
        text: text.to_owned(),
        value: value.to_owned(),
        suggestion,
    })
}

/// The closest name, if `given` is one edit or swap away from it, or starts with it (`MONDAY` → `MON`).
fn did_you_mean(given: &str, names: &[&'static str]) -> Option<&'static str> {
    if let Some(prefix) = names.iter().find(|n| n.len() >= 3 && given.starts_with(**n)) {
        return Some(prefix);
    }
    names
        .iter()
        .copied()
        .find(|n| edit_distance(given, n) <= 1 || swapped(given, n))
}

/// Whether `a` is `b` with two adjacent characters swapped (`JNA` → `JAN`).
fn swapped(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && (1..a.len()).any(|i| {
            let mut t = a.to_vec();
            t.swap(i - 1, i);
            t == b
        })
}

/// Levenshtein distance; names are a few characters long.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The shortest interval between two runs; [`CronError::NeverFires`] when there is none.
fn shortest_interval(cron: &Cron) -> Result<Duration, CronError> {
    let pattern = &cron.pattern;

    // Times of day: the product of the hour, minute and second fields, in that order. Between two
    // consecutive times either only the second changes, or the minute changes (from the last
    // second to the first), or the hour (from the last minute and second to the first ones), so
    // the shortest gap within a day follows from each field's shortest step, without listing the
    // up to 86 400 times.
    let field = |c: &croner::CronComponent| -> Option<(u64, u64, Option<u64>)> {
        let values: Vec<u64> = c.values().into_iter().map(u64::from).collect();
        let step = values.windows(2).map(|w| w[1] - w[0]).min();
        Some((*values.first()?, *values.last()?, step))
    };
    let (Some(hours), Some(minutes), Some(seconds)) =
        (field(&pattern.hours), field(&pattern.minutes), field(&pattern.seconds))
    else {
        return Err(CronError::NeverFires);
    };
    let first_time = hours.0 * 3600 + minutes.0 * 60 + seconds.0;
    let last_time = hours.1 * 3600 + minutes.1 * 60 + seconds.1;
    let minute_span = seconds.1 - seconds.0;
    let hour_span = (minutes.1 - minutes.0) * 60 + minute_span;
    let within_day = [
        seconds.2,
        minutes.2.map(|step| step * 60 - minute_span),
        hours.2.map(|step| step * 3600 - hour_span),
    ]
    .into_iter()
    .flatten()
    .min();

    let days = shortest_day_gap(pattern)?.ok_or(CronError::NeverFires)?;
    let across_days = days * DAY_SECONDS + first_time - last_time;
    let shortest = within_day.map_or(across_days, |g| g.min(across_days));
    Ok(Duration::from_secs(shortest))
}

/// The shortest gap, in days, between two consecutive firing days; `None` when no day fires.
///
/// Which days of a month fire depends only on the month's length and the weekday of its first day
/// (croner's day matcher looks at nothing else; `month_match` decides whether the month counts at
/// all): 4 lengths × 7 weekdays = 28 shapes, each asked of croner's own matcher once, day by day,
/// so `L`, `W`, `#` and the day-of-month/weekday OR rule count exactly as the scheduler applies
/// them. The cycle is then walked month by month (4 800 steps). A test checks the result against a
/// day-by-day walk of the whole cycle.
fn shortest_day_gap(pattern: &croner::CronPattern) -> Result<Option<u64>, CronError> {
    // (first firing day, last firing day, shortest gap inside the month), per shape.
    type Shape = Option<(u64, u64, Option<u64>)>;
    let mut shapes: [[Option<Shape>; 7]; 4] = [[None; 7]; 4];
    let mut weekday = Weekday::Saturday; // of 2000-01-01
    let mut index: u64 = 0; // days from 2000-01-01 to the first of the month
    let mut first_day: Option<u64> = None;
    let mut last_day: Option<u64> = None;
    let mut shortest: Option<u64> = None;
    for year in 2000..2400 {
        for month in 1..=12 {
            let length = croner::time::days_in_month(year, month);
            if pattern.month_match(month).map_err(parser)? {
                let slot = &mut shapes[(length - 28) as usize % 4][weekday.num_days_from_sunday() as usize % 7];
                let shape = match slot {
                    Some(shape) => *shape,
                    None => *slot.insert(month_shape(pattern, year, month, length, weekday)?),
                };
                if let Some((first, last, inner)) = shape {
                    let gaps = [inner, last_day.map(|previous| index + first - previous)];
                    for gap in gaps.into_iter().flatten() {
                        shortest = Some(shortest.map_or(gap, |g| g.min(gap)));
                    }
                    first_day.get_or_insert(index + first);
                    last_day = Some(index + last);
                    if shortest == Some(1) {
                        return Ok(Some(1)); // consecutive days: no gap can be shorter
                    }
                }
            }
            index += u64::from(length);
            weekday = weekday.shift(i32::try_from(length % 7).unwrap_or(0));
        }
    }
    Ok(wrap(first_day, last_day, shortest))
}

/// The firing days of one month, counted from its first day (0): the first, the last, and the
/// shortest gap between two of them.
fn month_shape(
    pattern: &croner::CronPattern,
    year: i32,
    month: u32,
    length: u32,
    first_weekday: Weekday,
) -> Result<Option<(u64, u64, Option<u64>)>, CronError> {
    let mut shape: Option<(u64, u64, Option<u64>)> = None;
    let mut weekday = first_weekday;
    for day in 1..=length {
        if pattern.day_match(year, month, day, weekday).map_err(parser)? {
            let offset = u64::from(day - 1);
            shape = Some(match shape {
                None => (offset, offset, None),
                Some((first, last, inner)) => {
                    let gap = offset - last;
                    (first, offset, Some(inner.map_or(gap, |g: u64| g.min(gap))))
                }
            });
        }
        weekday = weekday.shift(1);
    }
    Ok(shape)
}

fn parser(e: croner::errors::CronError) -> CronError {
    CronError::Parser(e.to_string())
}

/// The cycle repeats: its last firing day is followed by the first one of the next cycle.
fn wrap(first_day: Option<u64>, last_day: Option<u64>, shortest: Option<u64>) -> Option<u64> {
    let (first_day, last_day) = (first_day?, last_day?);
    let around = first_day + CYCLE_DAYS - last_day;
    Some(shortest.map_or(around, |g| g.min(around)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: every day of the 400-year cycle through croner's own matcher, from 2000-01-01
    /// (a Saturday).
    fn scan(pattern: &croner::CronPattern) -> Result<Option<u64>, CronError> {
        let mut weekday = Weekday::Saturday;
        let mut index: u64 = 0;
        let mut first_day: Option<u64> = None;
        let mut last_day: Option<u64> = None;
        let mut shortest: Option<u64> = None;
        for year in 2000..2400 {
            for month in 1..=12 {
                let length = croner::time::days_in_month(year, month);
                if !pattern.month_match(month).map_err(parser)? {
                    index += u64::from(length);
                    weekday = weekday.shift(i32::try_from(length % 7).unwrap_or(0));
                    continue;
                }
                for day in 1..=length {
                    if pattern.day_match(year, month, day, weekday).map_err(parser)? {
                        if let Some(last) = last_day {
                            let gap = index - last;
                            shortest = Some(shortest.map_or(gap, |g| g.min(gap)));
                        }
                        first_day.get_or_insert(index);
                        last_day = Some(index);
                    }
                    index += 1;
                    weekday = weekday.shift(1);
                }
            }
        }
        Ok(wrap(first_day, last_day, shortest))
    }

    fn interval(expr: &str) -> Duration {
        match check(expr) {
            Ok(c) => c.shortest_interval,
            Err(e) => panic!("{expr}: {e}"),
        }
    }

    fn error(expr: &str) -> String {
        match check(expr) {
            Ok(_) => panic!("{expr} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    const MINUTE: u64 = 60;
    const HOUR: u64 = 3600;
    const DAY: u64 = DAY_SECONDS;

    #[test]
    fn shortest_intervals() {
        assert_eq!(interval("* * * * * *"), Duration::from_secs(1));
        assert_eq!(interval("*/10 * * * * *"), Duration::from_secs(10));
        assert_eq!(interval("* * * * *"), Duration::from_secs(MINUTE));
        assert_eq!(interval("*/15 * * * *"), Duration::from_secs(15 * MINUTE));
        // 0, 20 and 50: the gap from 50 to the next hour's 0 is the shortest
        assert_eq!(interval("0,20,50 * * * *"), Duration::from_secs(10 * MINUTE));
        assert_eq!(interval("0 * * * *"), Duration::from_secs(HOUR));
        // 23:00 then 01:00 the next day
        assert_eq!(interval("0 1,23 * * *"), Duration::from_secs(2 * HOUR));
        assert_eq!(interval("30 2 * * *"), Duration::from_secs(DAY));
        assert_eq!(interval("@daily"), Duration::from_secs(DAY));
        // Friday to Monday is 3 days, Monday to Tuesday 1
        assert_eq!(interval("0 9 * * MON-FRI"), Duration::from_secs(DAY));
        assert_eq!(interval("0 9 * * MON,THU"), Duration::from_secs(3 * DAY));
        assert_eq!(interval("@weekly"), Duration::from_secs(7 * DAY));
        // February 1 to March 1 in a common year
        assert_eq!(interval("0 0 1 * *"), Duration::from_secs(28 * DAY));
        // The last day of February to the last day of March
        assert_eq!(interval("0 0 L * *"), Duration::from_secs(28 * DAY));
        assert_eq!(interval("0 0 1 1 *"), Duration::from_secs(365 * DAY));
        // 29 February: every 4 years, 8 across a century that is not a leap year (2100)
        assert_eq!(interval("0 0 29 2 *"), Duration::from_secs(1461 * DAY));
        // day 31 or a Monday (OR, as in Vixie cron): two Mondays are never more than 7 days apart,
        // and a Monday the 30th is followed by a Tuesday the 31st
        assert_eq!(interval("0 0 31 * MON"), Duration::from_secs(DAY));
    }

    /// The shortest gap within a day, from the fields' steps, is the one between the listed times.
    #[test]
    fn time_of_day_gaps_agree_with_listing_every_time() {
        for expr in [
            "* * * * * *",
            "0,30 * * * * *",
            "5,50 10,20 * * * *",
            "0 0,30 1,23 * * *",
            "59 59 0,23 * * *",
            "0 0 12 * * *",
            "10-20/5 */7 3-5 * * *",
        ] {
            let pattern = match CronParser::new().parse(expr) {
                Ok(cron) => cron.pattern,
                Err(e) => panic!("{expr}: {e}"),
            };
            let mut times = Vec::new();
            for h in pattern.hours.values() {
                for m in pattern.minutes.values() {
                    for s in pattern.seconds.values() {
                        times.push(u64::from(h) * 3600 + u64::from(m) * 60 + u64::from(s));
                    }
                }
            }
            let listed = times.windows(2).map(|w| w[1] - w[0]).min();
            let first = times[0];
            let last = times[times.len() - 1];
            let days = shortest_day_gap(&pattern).unwrap().unwrap();
            let expected = listed.map_or(days * DAY_SECONDS + first - last, |g| {
                g.min(days * DAY_SECONDS + first - last)
            });
            assert_eq!(interval(expr), Duration::from_secs(expected), "{expr}");
        }
    }

    /// Month shapes give the same answer as a walk through every day of the cycle.
    #[test]
    fn month_shapes_agree_with_the_day_by_day_walk() {
        for expr in [
            "0 0 1 * *",
            "0 0 * * *",
            "0 0 31 * *",
            "0 0 30 2 *",
            "0 0 29 2 *",
            "0 0 28,29 2 *",
            "0 0 1,15 * *",
            "0 0 1-5,30 1,3,12 *",
            "0 0 31 1,3 *",
            "0 0 */10 * *",
            "0 0 * * MON",
            "0 0 * * SUN,SAT",
            "0 0 * * 0,7",
            "0 0 * * 1-5",
            "0 0 * * 2,5",
            "0 0 L * *",
            "0 0 LW * *",
            "0 0 15W * *",
            "0 0 * * 5L",
            "0 0 * * FRI#2",
            "0 0 * * MON#5",
            "0 0 13 * FRI",
            "0 0 13 * +FRI",
            "0 0 29 2 +MON",
            "0 0 * 2 MON",
            "0 0 1-7 * +MON",
        ] {
            let pattern = match CronParser::new().parse(expr) {
                Ok(cron) => cron.pattern,
                Err(e) => panic!("{expr}: {e}"),
            };
            assert_eq!(shortest_day_gap(&pattern), scan(&pattern), "{expr}");
        }
    }

    #[test]
    fn never_fires() {
        for expr in [
            "0 0 30 2 *",
            "0 0 31 4 *",
            "0 0 31 2,4,6,9,11 *",
            "0 0 0 30 FEB *",
            "0 0 30 2 +MON",
        ] {
            assert_eq!(check(expr).map(drop), Err(CronError::NeverFires), "{expr}");
        }
        // 29 February fires in leap years; 31 in a list with a 31-day month fires
        assert!(check("0 0 29 2 *").is_ok());
        assert!(check("0 0 31 2,3 *").is_ok());
        // day 30 of February OR a Monday: Mondays fire
        assert!(check("0 0 30 2 MON").is_ok());
    }

    #[test]
    fn field_errors() {
        assert_eq!(
            error("61 * * * *"),
            "the minute field has `61`, which is out of range: minutes go from 0 to 59; the largest is `59`"
        );
        assert_eq!(
            error("0 9 * * MON-FRU"),
            "the weekday field `MON-FRU` has `FRU`, which is not a weekday name; did you mean `MON-FRI`? weekdays \
             go from 0 to 7 (0 and 7 are Sunday), or SUN to SAT (also `5L`: the last Friday, `1#2`: the second \
             Monday)"
        );
        assert!(error("0 9 * * monday").contains("did you mean `MON`?"));
        assert!(error("0 0 1 JNA *").contains("did you mean `JAN`?"));
        assert!(error("0 24 * * *").starts_with("the hour field has `24`"));
        assert!(error("0 0 0 * *").contains("the smallest is `1`"));
        assert!(error("0 0 * 13 *").contains("months go from 1 to 12"));
        assert!(error("*/0 * * * *").contains("`/0` never advances"));
        assert!(error("0 0 * * 1#6").contains("`#6` is not an occurrence"));
        assert!(error("0,,5 * * * *").contains("empty list item"));
        assert!(error("x * * * *").starts_with("the minute field has `x`, which is not a number"));
        assert!(error("0 0 0 0 1 * 2030").starts_with("a 7th field (a year) is not supported"));
        assert!(error("* * * *").starts_with("a cron expression has 5 or 6 fields, not 4"));
        assert!(error("  ").starts_with("the cron expression is empty"));
        assert!(error("@dayly").contains("did you mean `@daily`?"));
        assert!(error("@every 5m").ends_with("use an `every` schedule instead of cron"));
        assert!(
            error("0 0 5-3 * *")
                .contains("the range `5-3` goes backwards; write `3-5`, or, to wrap around, `5-31,1-3`")
        );
        assert!(error("0 0 * * 1-").contains("the range `1-` needs exactly two ends"));
        assert!(error("0 0 * ? *").contains("`?` only goes in the day-of-month or weekday field"));
        assert!(error("0 0 L-2 * *").contains("cannot be the end of a range"));
    }

    #[test]
    fn accepted_syntax() {
        for expr in [
            "0 0 L * *",
            "0 0 LW * *",
            "0 0 15W * *",
            "0 0 * * 5L",
            "0 0 * * FRI#2",
            "0 0 * * MON#2,FRI#L",
            "0 0 ? * MON",
            "0 0 1-7 * +MON",
            "0 0 * jan-mar sun",
            "0 0 * * 7",
            "0 */5 9-17 * * 1-5",
            "@hourly",
        ] {
            assert!(check(expr).is_ok(), "{expr}: {:?}", check(expr).err());
        }
    }
}
