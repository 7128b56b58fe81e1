//! Cron expressions and time zones, checked at expansion with the checks the runtime applies at
//! `build()` (`host-cron`; feature `cron`, which `host`'s `cron` feature turns on).

use std::time::Duration;

use syn::LitStr;

/// Checks the expression; returns the shortest interval between two of its runs, which `jitter`
/// must stay below.
#[cfg(feature = "cron")]
pub(crate) fn check_expr(lit: &LitStr) -> syn::Result<Duration> {
    let expr = lit.value();
    host_cron::check(&expr)
        .map(|checked| checked.shortest_interval)
        .map_err(|e| {
            let message = match e {
                host_cron::CronError::NeverFires => format!("the cron expression `{expr:?}` {e}"),
                e => format!("invalid cron expression `{expr:?}`: {e}"),
            };
            syn::Error::new(lit.span(), message)
        })
}

#[cfg(feature = "cron")]
pub(crate) fn check_tz(lit: &LitStr) -> syn::Result<()> {
    let name = lit.value();
    if jiff::tz::TimeZone::get(&name).is_ok() {
        return Ok(());
    }
    let zones: Vec<String> = jiff::tz::db().available().map(|z| z.as_str().to_owned()).collect();
    let hint = match crate::diag::did_you_mean(&name, zones.iter().map(String::as_str)) {
        Some(zone) => format!("did you mean `\"{zone}\"`? "),
        None => String::new(),
    };
    Err(syn::Error::new(
        lit.span(),
        format!("unknown time zone `{name:?}`; {hint}use an IANA name such as `Europe/Berlin` or `UTC`"),
    ))
}

#[cfg(not(feature = "cron"))]
pub(crate) fn check_expr(lit: &LitStr) -> syn::Result<Duration> {
    Err(disabled(lit))
}

/// Without the feature a `tz` goes with a `cron` (reported by `check_expr`) or with no cron at all
/// (reported by `validate`): nothing to add.
#[cfg(not(feature = "cron"))]
pub(crate) fn check_tz(_: &LitStr) -> syn::Result<()> {
    Ok(())
}

#[cfg(not(feature = "cron"))]
fn disabled(lit: &LitStr) -> syn::Error {
    syn::Error::new(
        lit.span(),
        "cron schedules need the `cron` feature of `host-core`, which is turned off; \
         enable it in Cargo.toml (`features = [\"cron\"]`) or use `every = \"…\"`",
    )
}
