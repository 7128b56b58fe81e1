//! Checks between options, and between the options and the item, once everything is parsed; builds
//! the final [`Config`] the expansion works from.

use std::time::Duration;

use proc_macro2::Span;
use syn::Ident;

use crate::args::{Args, Attr, CatchUp, MissedTicks, Policy, Restart, Spanned};
use crate::diag::Errors;
use crate::item::{ServiceFn, Target};

/// Everything the expansion needs, checked.
pub(crate) struct Config {
    /// The path to the runtime: `::host` unless `crate = "…"`.
    pub(crate) krate: syn::Path,
    /// The span of the `crate = "…"` literal, where a path that does not resolve is reported.
    pub(crate) krate_span: Span,
    /// `name = "…"`; `None`: the item's path.
    pub(crate) name: Option<String>,
    pub(crate) order: Option<i32>,
    pub(crate) on_failure: Option<Policy>,
    /// `enabled = false`: registered switched off.
    pub(crate) enabled: bool,
    pub(crate) kind: Kind,
}

pub(crate) enum Kind {
    /// `#[hosted_service]` on an `async fn`.
    HostedFn(ServiceFn),
    /// `#[hosted_service]` on a type, built by `new` or `Default`.
    HostedType { ident: Ident, new: Option<syn::Path> },
    /// `#[periodic]` on an `async fn`.
    Periodic { func: ServiceFn, schedule: Schedule },
}

pub(crate) struct Schedule {
    pub(crate) trigger: Trigger,
    pub(crate) tz: Option<String>,
    pub(crate) initial_delay: Option<Duration>,
    pub(crate) jitter: Option<Duration>,
    pub(crate) missed_ticks: Option<MissedTicks>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_failures: Option<u32>,
    /// `singleton`: one run per tick across replicas.
    pub(crate) singleton: bool,
    pub(crate) catch_up: Option<CatchUp>,
    pub(crate) lease: Option<Duration>,
}

pub(crate) enum Trigger {
    Every(Duration),
    FixedDelay(Duration),
    Cron(String),
}

pub(crate) fn config(attr: Attr, args: Args, target: Target) -> syn::Result<Config> {
    let mut errors = Errors::default();
    let kind = match (attr, target) {
        (Attr::HostedService, Target::Fn(func)) => {
            if let Some(new) = &args.new {
                errors.push(syn::Error::new(
                    new.key,
                    "`new` names the constructor of a struct or enum; on an `async fn` there is nothing to \
                     construct: remove it",
                ));
            }
            Kind::HostedFn(func)
        }
        (Attr::HostedService, Target::Type(ident)) => Kind::HostedType {
            ident,
            new: args.new.map(|n| n.value),
        },
        // Without a schedule there is nothing else to check against.
        (Attr::Periodic, Target::Fn(func)) => Kind::Periodic {
            func,
            schedule: schedule(&args, &mut errors)?,
        },
        (Attr::Periodic, Target::Type(_)) => unreachable!("item::parse rejects `#[periodic]` on a type"),
    };
    if let Some(Policy::Restart(restart)) = args.on_failure.as_ref().map(|p| &p.value) {
        restart_delays(restart, &mut errors);
    }
    let krate_span = args.krate.as_ref().map_or_else(Span::call_site, |k| k.span);
    let krate = args.krate.map_or_else(|| syn::parse_quote!(::host), |k| k.value);
    let config = Config {
        krate,
        krate_span,
        name: args.name.map(|n| n.value),
        order: args.order.map(|o| o.value),
        on_failure: args.on_failure.map(|p| p.value),
        enabled: args.enabled.is_none_or(|e| e.value),
        kind,
    };
    errors.finish(config)
}

/// The schedule of a `#[periodic]`: exactly one trigger, and options that fit it.
fn schedule(args: &Args, errors: &mut Errors) -> syn::Result<Schedule> {
    let mut triggers: Vec<(&str, Span, Trigger)> = Vec::new();
    if let Some(every) = &args.every {
        triggers.push(("every", every.key, Trigger::Every(every.value)));
    }
    if let Some(delay) = &args.fixed_delay {
        triggers.push(("fixed_delay", delay.key, Trigger::FixedDelay(delay.value)));
    }
    if let Some(cron) = &args.cron {
        triggers.push(("cron", cron.key, Trigger::Cron(cron.value.0.clone())));
    }
    if triggers.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "`#[periodic]` needs a schedule: add `every = \"30s\"` (fixed rate), `fixed_delay = \"10s\"` \
             (a pause after each run) or `cron = \"0 */5 * * * *\"`",
        ));
    }
    let (first, _, _) = triggers[0];
    for (name, key, _) in &triggers[1..] {
        errors.push(syn::Error::new(
            *key,
            format!("`{first}` and `{name}` are two schedules, and a periodic service has one; remove one of them"),
        ));
    }
    let trigger = triggers.swap_remove(0).2;

    let period = match &trigger {
        Trigger::Every(p) | Trigger::FixedDelay(p) => Some(*p),
        Trigger::Cron(_) => None,
    };
    let cron_interval = args.cron.as_ref().map(|c| c.value.1);
    if let Some(tz) = &args.tz {
        if !matches!(trigger, Trigger::Cron(_)) {
            errors.push(syn::Error::new(
                tz.key,
                format!(
                    "`tz` only applies to `cron` schedules; `{first}` counts elapsed time, in no time zone: remove `tz`"
                ),
            ));
        }
    }
    if let (Some(jitter), Some(period)) = (&args.jitter, period) {
        if jitter.value >= period {
            errors.push(syn::Error::new(
                jitter.span,
                format!(
                    "`jitter` ({}) must be shorter than the period, `{first}` ({}), or runs could reorder or \
                     overlap the next tick; lower it",
                    humantime::format_duration(jitter.value),
                    humantime::format_duration(period)
                ),
            ));
        }
    }
    if let (Some(jitter), Some(interval), Trigger::Cron(expr)) = (&args.jitter, cron_interval, &trigger) {
        if jitter.value >= interval {
            errors.push(syn::Error::new(
                jitter.span,
                format!(
                    "`jitter` ({}) must be shorter than the shortest interval between two runs of `cron = {expr:?}` \
                     ({}), or a delayed run would fall after the next one is due and that run would be lost; \
                     lower `jitter` below {}",
                    humantime::format_duration(jitter.value),
                    humantime::format_duration(interval),
                    humantime::format_duration(interval)
                ),
            ));
        }
    }
    if let (Some(missed), Trigger::FixedDelay(_)) = (&args.missed_ticks, &trigger) {
        errors.push(syn::Error::new(
            missed.key,
            "`missed_ticks` does not apply to `fixed_delay`: it waits after each run, so it cannot miss a tick; \
             remove `missed_ticks`, or use `every` for a fixed rate",
        ));
    }
    singleton(args, &trigger, errors);
    Ok(Schedule {
        trigger,
        tz: args.tz.as_ref().map(|t| t.value.clone()),
        initial_delay: value(&args.initial_delay),
        jitter: value(&args.jitter),
        missed_ticks: value(&args.missed_ticks),
        timeout: value(&args.timeout),
        max_failures: value(&args.max_failures),
        singleton: args.singleton.is_some(),
        catch_up: value(&args.catch_up),
        lease: value(&args.lease),
    })
}

/// `singleton` needs `every` or `cron`, and excludes what has no meaning on the database clock's
/// grid; `catch_up` and `lease` need `singleton`.
fn singleton(args: &Args, trigger: &Trigger, errors: &mut Errors) {
    let Some(singleton) = &args.singleton else {
        for (key, name) in [
            (args.catch_up.as_ref().map(|s| s.key), "catch_up"),
            (args.lease.as_ref().map(|s| s.key), "lease"),
        ] {
            if let Some(span) = key {
                errors.push(syn::Error::new(
                    span,
                    format!("`{name}` only applies to singleton jobs: add `singleton`, or remove `{name}`"),
                ));
            }
        }
        return;
    };
    if let Trigger::FixedDelay(_) = trigger {
        errors.push(syn::Error::new(
            singleton.key,
            "`singleton` needs `every` or `cron`: its ticks are scheduled times on the database clock, and \
             `fixed_delay` has none; use `every = \"…\"`",
        ));
    }
    if let Some(delay) = &args.initial_delay {
        errors.push(syn::Error::new(
            delay.key,
            "`initial_delay` does not apply to a singleton job: its ticks are on the database clock's grid \
             (multiples of the period since the Unix epoch); remove it",
        ));
    }
    if let Some(missed) = &args.missed_ticks {
        errors.push(syn::Error::new(
            missed.key,
            "a singleton job skips the ticks missed while its previous run lasts; remove `missed_ticks`, and use \
             `catch_up = \"once\"` for ticks missed while every replica was down",
        ));
    }
    if let Some(lease) = &args.lease {
        if lease.value < Duration::from_millis(30) {
            errors.push(syn::Error::new(
                lease.span,
                "the lease must be at least 30ms (it is renewed every third of it); use e.g. `lease = \"30s\"`",
            ));
        }
    }
}

/// The back-off starts at `initial` and grows up to `max`.
fn restart_delays(restart: &Restart, errors: &mut Errors) {
    if let (Some(initial), Some(max)) = (&restart.initial, &restart.max) {
        if initial.value > max.value {
            errors.push(syn::Error::new(
                initial.span,
                format!(
                    "the first restart delay, `initial` ({}), is longer than the longest, `max` ({}); \
                     lower `initial` or raise `max`",
                    humantime::format_duration(initial.value),
                    humantime::format_duration(max.value)
                ),
            ));
        }
    }
}

fn value<T: Copy>(option: &Option<Spanned<T>>) -> Option<T> {
    option.as_ref().map(|s| s.value)
}
