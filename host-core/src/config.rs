//! Configuration without recompiling (feature `config`): every option an operator tunes,
//! per service, from a TOML file and environment variables, over what the attributes (or the
//! code) say. Lowest precedence first: the attribute or builder call, the file, the environment.
//!
//! - File: `$HOST_CONFIG` if set (then it must exist), else `host.toml` in the working directory
//!   (a missing one is fine); [`Builder::config_file`](crate::Builder::config_file) names another.
//! - Environment: `HOST_<SERVICE>_<OPTION>`, the service's name upper-cased with every character
//!   that is not a letter or digit turned into `_`; [`Builder::config_env`](crate::Builder::config_env)
//!   gives a map instead of the process's environment.
//!
//! Everything is read, parsed and checked by [`Builder::build`](crate::Builder::build), before any
//! service is constructed: a bad value names its source (file and key, or variable), the service,
//! the value and the accepted grammar (durations and cron expressions go through the very checks
//! the macros apply at compile time); an unknown service or option is an error with a did-you-mean.
//!
//! The file is parsed with `toml`, the reference TOML crate for Rust (what Cargo reads), into a
//! plain table that this module walks itself: the messages then name the exact key and the
//! grammar, which a derived `Deserialize` would word generically, and the layering of two sources
//! is a few lines, not worth a framework like figment.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::policy::{FailurePolicy, Restart};
use crate::schedule::{MissedTicks, Schedule, Trigger};
use crate::slot::Service;

/// Where configuration comes from; set on the [`Builder`](crate::Builder).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    pub(crate) file: FileSource,
    pub(crate) env: EnvSource,
}

#[derive(Debug, Clone, Default)]
pub(crate) enum FileSource {
    /// `$HOST_CONFIG` (must exist), else `host.toml` (may be missing).
    #[default]
    Default,
    /// This file, which must exist.
    Path(PathBuf),
    Off,
}

#[derive(Debug, Clone, Default)]
pub(crate) enum EnvSource {
    /// The process's environment.
    #[default]
    Process,
    /// These variables instead (tests, embedding).
    Map(Vec<(String, String)>),
    Off,
}

/// The environment variable that names the configuration file.
pub const CONFIG_FILE_VAR: &str = "HOST_CONFIG";
/// The file read when [`CONFIG_FILE_VAR`] is not set (a missing one is fine).
pub const DEFAULT_CONFIG_FILE: &str = "host.toml";
/// The prefix of every environment variable the host reads.
pub const ENV_PREFIX: &str = "HOST_";

/// The variable of the host's shutdown timeout.
const SHUTDOWN_TIMEOUT_VAR: &str = "HOST_SHUTDOWN_TIMEOUT";

/// A configuration value that is invalid, or names a service or option that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {}{message}", service.as_ref().map(|s| format!("service `{s}`: ")).unwrap_or_default())]
pub struct ConfigError {
    /// Where: `host.toml: services."cleanup".every`, or `HOST_CLEANUP_EVERY`.
    pub origin: String,
    /// The service the value is for, if any.
    pub service: Option<String>,
    /// What is wrong, with the value and the accepted grammar.
    pub message: String,
}

/// One value and where it came from.
#[derive(Debug, Clone)]
struct Set<T> {
    value: T,
    origin: String,
}

#[derive(Debug, Clone)]
enum TriggerValue {
    Every(Duration),
    FixedDelay(Duration),
    Cron(String),
}

/// A service's settings from one source, or merged.
#[derive(Debug, Clone, Default)]
struct Overrides {
    enabled: Option<Set<bool>>,
    trigger: Option<Set<TriggerValue>>,
    tz: Option<Set<String>>,
    initial_delay: Option<Set<Duration>>,
    jitter: Option<Set<Duration>>,
    missed_ticks: Option<Set<MissedTicks>>,
    timeout: Option<Set<Option<Duration>>>,
    max_failures: Option<Set<Option<u32>>>,
    order: Option<Set<i32>>,
    on_failure: Option<Set<Policy>>,
    restart: RestartOverrides,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    StopHost,
    Ignore,
    Restart,
}

#[derive(Debug, Clone, Default)]
struct RestartOverrides {
    initial: Option<Set<Duration>>,
    max: Option<Set<Duration>>,
    factor: Option<Set<f64>>,
    jitter: Option<Set<f64>>,
    max_restarts: Option<Set<u32>>,
    window: Option<Set<Duration>>,
}

impl Overrides {
    /// `other` (a higher source) over `self`.
    fn merge(&mut self, other: Overrides) {
        fn over<T>(low: &mut Option<T>, high: Option<T>) {
            if high.is_some() {
                *low = high;
            }
        }
        over(&mut self.enabled, other.enabled);
        over(&mut self.trigger, other.trigger);
        over(&mut self.tz, other.tz);
        over(&mut self.initial_delay, other.initial_delay);
        over(&mut self.jitter, other.jitter);
        over(&mut self.missed_ticks, other.missed_ticks);
        over(&mut self.timeout, other.timeout);
        over(&mut self.max_failures, other.max_failures);
        over(&mut self.order, other.order);
        over(&mut self.on_failure, other.on_failure);
        let (low, high) = (&mut self.restart, other.restart);
        over(&mut low.initial, high.initial);
        over(&mut low.max, high.max);
        over(&mut low.factor, high.factor);
        over(&mut low.jitter, high.jitter);
        over(&mut low.max_restarts, high.max_restarts);
        over(&mut low.window, high.window);
    }

    fn schedule_origins(&self) -> Vec<&str> {
        let origins = [
            self.trigger.as_ref().map(|s| &s.origin),
            self.tz.as_ref().map(|s| &s.origin),
            self.initial_delay.as_ref().map(|s| &s.origin),
            self.jitter.as_ref().map(|s| &s.origin),
            self.missed_ticks.as_ref().map(|s| &s.origin),
            self.timeout.as_ref().map(|s| &s.origin),
            self.max_failures.as_ref().map(|s| &s.origin),
        ];
        origins.into_iter().flatten().map(String::as_str).collect()
    }
}

/// Every option a service can be given, as the file spells it (the environment upper-cases it).
const OPTIONS: [&str; 13] = [
    "enabled",
    "every",
    "fixed_delay",
    "cron",
    "tz",
    "initial_delay",
    "jitter",
    "missed_ticks",
    "timeout",
    "max_failures",
    "order",
    "on_failure",
    "restart",
];

/// The parameters of `restart` (a table in the file, `RESTART_<PARAM>` in the environment).
const RESTART_OPTIONS: [&str; 6] = ["initial", "max", "factor", "jitter", "max_restarts", "window"];

/// The host's own options.
const HOST_OPTIONS: [&str; 2] = ["shutdown_timeout", "services"];

const DURATION_GRAMMAR: &str = "a duration such as \"30s\", \"5m\" or \"1h 30m\", from 1ms to 365d";

/// The configuration, read and checked: per service (by its exact name) and for the host.
#[derive(Debug, Default)]
pub(crate) struct Config {
    services: HashMap<String, Overrides>,
    shutdown_timeout: Option<Duration>,
}

/// How a service's name is written in an environment variable: upper-case, and every character
/// that is not an ASCII letter or digit replaced by `_` (`my_app::jobs::cleanup` →
/// `MY_APP__JOBS__CLEANUP`).
pub fn env_name(service: &str) -> String {
    service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The names a service can be addressed by: its full name, and the last `::` segment of a
/// module-path name when no other service has that segment.
fn aliases<'a>(names: &[&'a str]) -> HashMap<&'a str, &'a str> {
    let mut short_count: HashMap<&str, usize> = HashMap::new();
    for name in names {
        if let Some((_, short)) = name.rsplit_once("::") {
            *short_count.entry(short).or_default() += 1;
        }
    }
    let mut aliases = HashMap::new();
    for name in names {
        aliases.insert(*name, *name);
    }
    for name in names {
        if let Some((_, short)) = name.rsplit_once("::")
            && short_count.get(short) == Some(&1)
            && !aliases.contains_key(short)
        {
            aliases.insert(short, *name);
        }
    }
    aliases
}

impl Config {
    /// Reads the sources; `names` are every service the host knows (selected or not).
    pub(crate) fn load<'a>(sources: &Sources, names: impl FnOnce() -> Vec<&'a str>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let vars: Vec<(String, String)> = match &sources.env {
            EnvSource::Process => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .filter(|(k, _)| k.starts_with(ENV_PREFIX))
                .collect(),
            EnvSource::Map(vars) => vars.clone(),
            EnvSource::Off => Vec::new(),
        };
        let named = vars.iter().find(|(k, _)| k == CONFIG_FILE_VAR).map(|(_, v)| v.as_str());
        let file = read_file(&sources.file, named)?;
        // Most hosts have no configuration that names a service: then no service's names and
        // variable names are worked out (that would cost every host's start-up per service).
        let names_services = |(k, _): &(String, String)| k != CONFIG_FILE_VAR && k != SHUTDOWN_TIMEOUT_VAR;
        if file.is_none() && !vars.iter().any(names_services) {
            if let Some((var, value)) = vars.iter().find(|(k, _)| k == SHUTDOWN_TIMEOUT_VAR) {
                config.shutdown_timeout = Some(duration(value, var, None, false)?);
            }
            return Ok(config);
        }
        let aliases = aliases(&names());
        if let Some((path, text)) = file {
            config.read_toml(&path, &text, &aliases)?;
        }
        config.read_env(&vars, &aliases)?;
        Ok(config)
    }

    /// Whether the service runs: the configuration's `enabled`, else `default` (the attribute's).
    pub(crate) fn enabled(&self, service: &str, default: bool) -> bool {
        self.services
            .get(service)
            .and_then(|o| o.enabled.as_ref())
            .map_or(default, |e| e.value)
    }

    pub(crate) fn shutdown_timeout(&self) -> Option<Duration> {
        self.shutdown_timeout
    }

    fn entry(&mut self, service: &str) -> &mut Overrides {
        self.services.entry(service.to_owned()).or_default()
    }

    fn read_toml(&mut self, path: &str, text: &str, aliases: &HashMap<&str, &str>) -> Result<(), ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
            origin: path.to_owned(),
            service: None,
            message: format!("not valid TOML: {}", e.message()),
        })?;
        for (key, value) in &table {
            let origin = format!("{path}: {key}");
            match key.as_str() {
                "shutdown_timeout" => {
                    let text = value.as_str().ok_or_else(|| ConfigError {
                        origin: origin.clone(),
                        service: None,
                        message: format!("expected {DURATION_GRAMMAR} (a string), found `{value}`"),
                    })?;
                    self.shutdown_timeout = Some(duration(text, &origin, None, false)?);
                }
                "services" => {
                    let services = value.as_table().ok_or_else(|| ConfigError {
                        origin: origin.clone(),
                        service: None,
                        message: "expected a table of services: `[services.\"name\"]`".to_owned(),
                    })?;
                    for (name, options) in services {
                        let origin = format!("{path}: services.{}", quoted_key(name));
                        let service = lookup(aliases, name, &origin)?;
                        let options = options.as_table().ok_or_else(|| ConfigError {
                            origin: origin.clone(),
                            service: Some(service.to_owned()),
                            message: format!(
                                "expected a table of options ({}), found `{options}`",
                                OPTIONS.join(", ")
                            ),
                        })?;
                        let overrides = file_options(options, &origin, service)?;
                        self.entry(service).merge(overrides);
                    }
                }
                other => {
                    return Err(ConfigError {
                        origin,
                        service: None,
                        message: unknown("key", other, &HOST_OPTIONS),
                    });
                }
            }
        }
        Ok(())
    }

    fn read_env(&mut self, vars: &[(String, String)], aliases: &HashMap<&str, &str>) -> Result<(), ConfigError> {
        // The variable names of every service (full name and unique short name).
        let mut by_env: HashMap<String, Vec<&str>> = HashMap::new();
        for (alias, service) in aliases {
            let list = by_env.entry(env_name(alias)).or_default();
            if !list.contains(service) {
                list.push(service);
            }
        }
        let mut env_options: Vec<String> = OPTIONS
            .iter()
            .filter(|o| **o != "restart")
            .map(|o| o.to_ascii_uppercase())
            .collect();
        env_options.extend(
            RESTART_OPTIONS
                .iter()
                .map(|o| format!("RESTART_{}", o.to_ascii_uppercase())),
        );
        let mut sorted: Vec<&(String, String)> = vars.iter().collect();
        sorted.sort();
        let mut per_service: Vec<(&str, Overrides)> = Vec::new();
        for (var, value) in sorted {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if var == CONFIG_FILE_VAR {
                continue;
            }
            if rest == "SHUTDOWN_TIMEOUT" {
                self.shutdown_timeout = Some(duration(value, var, None, false)?);
                continue;
            }
            // Every (service, option) split of the name that names a known service.
            let mut matches: Vec<(&str, &str)> = Vec::new();
            let mut option_only: Option<(&str, &str)> = None;
            for option in &env_options {
                let Some(service_part) = rest.strip_suffix(option.as_str()).and_then(|s| s.strip_suffix('_')) else {
                    continue;
                };
                option_only.get_or_insert((service_part, option));
                for service in by_env.get(service_part).into_iter().flatten() {
                    if !matches.iter().any(|(s, o)| s == service && *o == option.as_str()) {
                        matches.push((service, option));
                    }
                }
            }
            let (service, option) = match matches.as_slice() {
                [one] => *one,
                [] => {
                    // Not ours unless it ends in an option's name: then the service is unknown.
                    let Some((service_part, option)) = option_only else {
                        continue;
                    };
                    let known: Vec<&str> = by_env.keys().map(String::as_str).collect();
                    let hint = match host_syntax::did_you_mean(service_part, known.iter().copied()) {
                        Some(near) => format!("; did you mean `{ENV_PREFIX}{near}_{option}`?"),
                        None => String::new(),
                    };
                    return Err(ConfigError {
                        origin: var.clone(),
                        service: None,
                        message: format!(
                            "no service is named `{service_part}` (variables are `{ENV_PREFIX}<SERVICE>_<OPTION>`, the \
                             name upper-cased with every other character than a letter or digit as `_`){hint}; known: {}",
                            sorted_list(known.iter().map(|k| format!("`{ENV_PREFIX}{k}_…`")))
                        ),
                    });
                }
                several => {
                    return Err(ConfigError {
                        origin: var.clone(),
                        service: None,
                        message: format!(
                            "the variable could be meant for {}; set the option in the configuration file, where \
                             `[services.\"<exact name>\"]` is unambiguous",
                            sorted_list(several.iter().map(|(s, o)| format!("`{o}` of service `{s}`")))
                        ),
                    });
                }
            };
            let overrides = env_option(option, value, var, service)?;
            per_service.push((service, overrides));
        }
        for (service, overrides) in per_service {
            self.entry(service).merge(overrides);
        }
        Ok(())
    }

    /// Applies a service's settings (schedule, policy, order) and validates its schedule.
    pub(crate) fn apply(&self, service: &mut Service) -> Result<(), ConfigError> {
        let Some(o) = self.services.get(&*service.name) else {
            return Ok(());
        };
        let name = service.name.to_string();
        let error = |origin: &str, message: String| ConfigError {
            origin: origin.to_owned(),
            service: Some(name.clone()),
            message,
        };
        if let Some(order) = &o.order {
            service.order = order.value;
        }
        // The policy: the attribute's (or code's), its kind replaced, its restart parameters set.
        let base = service.failure_policy();
        let kind = match (&o.on_failure, base) {
            (Some(set), _) => Some(set.value),
            (None, Some(FailurePolicy::Restart(_))) => Some(Policy::Restart),
            (None, Some(FailurePolicy::Ignore)) => Some(Policy::Ignore),
            (None, Some(FailurePolicy::StopHost)) => Some(Policy::StopHost),
            (None, _) => None,
        };
        let r = &o.restart;
        let restart_params = [
            r.initial.as_ref().map(|s| &s.origin),
            r.max.as_ref().map(|s| &s.origin),
            r.factor.as_ref().map(|s| &s.origin),
            r.jitter.as_ref().map(|s| &s.origin),
            r.max_restarts.as_ref().map(|s| &s.origin),
            r.window.as_ref().map(|s| &s.origin),
        ];
        let restart_origin = restart_params.into_iter().flatten().next();
        match kind {
            Some(Policy::Restart) => {
                let mut restart = match base {
                    Some(FailurePolicy::Restart(restart)) => restart,
                    _ => Restart::new(),
                };
                if let Some(s) = &r.initial {
                    restart = restart.initial(s.value);
                }
                if let Some(s) = &r.max {
                    restart = restart.max(s.value);
                }
                if let Some(s) = &r.factor {
                    restart = restart.factor(s.value);
                }
                if let Some(s) = &r.jitter {
                    restart = restart.jitter(s.value);
                }
                if let Some(s) = &r.max_restarts {
                    restart = restart.max_restarts(s.value);
                }
                if let Some(s) = &r.window {
                    restart = restart.window(s.value);
                }
                if restart.initial > restart.max {
                    let origin = restart_origin.map_or("configuration", String::as_str);
                    return Err(error(
                        origin,
                        format!(
                            "the restart's initial delay ({}) is longer than its maximum ({}); lower `initial` or raise `max`",
                            humantime::format_duration(restart.initial),
                            humantime::format_duration(restart.max)
                        ),
                    ));
                }
                service.extras_mut().policy = Some(FailurePolicy::Restart(restart));
            }
            other => {
                if let Some(origin) = restart_origin {
                    return Err(error(
                        origin,
                        "restart parameters apply only to the `restart` policy, and this service's `on_failure` is \
                         not `restart`; also set `on_failure = \"restart\"`"
                            .to_owned(),
                    ));
                }
                match (other, &o.on_failure) {
                    (Some(Policy::Ignore), Some(_)) => service.extras_mut().policy = Some(FailurePolicy::Ignore),
                    (Some(Policy::StopHost), Some(_)) => service.extras_mut().policy = Some(FailurePolicy::StopHost),
                    _ => {}
                }
            }
        }
        let origins = o.schedule_origins();
        if origins.is_empty() {
            return Ok(());
        }
        let Some(schedule) = service.schedule_mut() else {
            return Err(error(
                origins[0],
                "this is a schedule option, and the service is not periodic (it is a hosted service); remove it"
                    .to_owned(),
            ));
        };
        override_schedule(schedule, o).map_err(|(origin, message)| error(&origin, message))?;
        schedule.validate().map_err(|e| {
            error(
                &origins.join(", "),
                format!("the schedule is invalid with these settings: {e}"),
            )
        })
    }
}

/// Applies the schedule settings; an error carries its origin.
fn override_schedule(schedule: &mut Schedule, o: &Overrides) -> Result<(), (String, String)> {
    if let Some(trigger) = &o.trigger {
        schedule.trigger = match &trigger.value {
            TriggerValue::Every(period) => Trigger::Every(*period),
            TriggerValue::FixedDelay(delay) => Trigger::FixedDelay(*delay),
            #[cfg(feature = "cron")]
            TriggerValue::Cron(expr) => {
                // A new expression keeps the zone the schedule had (set `tz` to change it).
                let mut spec = crate::schedule::cron::CronSpec::new(expr);
                if let Trigger::Cron(old) = &schedule.trigger
                    && let Some(zone) = old.zone()
                {
                    spec.set_zone(zone);
                }
                Trigger::Cron(Box::new(spec))
            }
            #[cfg(not(feature = "cron"))]
            TriggerValue::Cron(_) => {
                return Err((
                    trigger.origin.clone(),
                    "cron schedules need the `cron` feature of `host-core`, which this build leaves out; use \
                     `every` or `fixed_delay`"
                        .to_owned(),
                ));
            }
        };
    }
    if let Some(tz) = &o.tz {
        #[cfg(feature = "cron")]
        {
            if !matches!(schedule.trigger, Trigger::Cron(_)) {
                return Err((
                    tz.origin.clone(),
                    format!(
                        "`tz = \"{}\"` applies only to a cron schedule, and this one is not; set `cron` too, or remove `tz`",
                        tz.value
                    ),
                ));
            }
            *schedule = schedule.clone().tz(&tz.value);
        }
        #[cfg(not(feature = "cron"))]
        return Err((
            tz.origin.clone(),
            "time zones need the `cron` feature of `host-core`, which this build leaves out".to_owned(),
        ));
    }
    if let Some(s) = &o.initial_delay {
        schedule.opts_mut().initial_delay = s.value;
    }
    if let Some(s) = &o.jitter {
        schedule.opts_mut().jitter = s.value;
    }
    if let Some(s) = &o.missed_ticks {
        if matches!(schedule.trigger, Trigger::FixedDelay(_)) {
            return Err((
                s.origin.clone(),
                "`missed_ticks` applies to `every` and `cron` schedules; a fixed delay never misses a tick; remove it"
                    .to_owned(),
            ));
        }
        schedule.set_missed(s.value);
    }
    if let Some(s) = &o.timeout {
        schedule.opts_mut().timeout = s.value;
    }
    if let Some(s) = &o.max_failures {
        schedule.opts_mut().max_failures = s.value;
    }
    Ok(())
}

/// The file's path and text; `named`: the value of `HOST_CONFIG`.
fn read_file(source: &FileSource, named: Option<&str>) -> Result<Option<(String, String)>, ConfigError> {
    let (path, required) = match source {
        FileSource::Off => return Ok(None),
        FileSource::Path(path) => (path.clone(), true),
        FileSource::Default => match named {
            Some(path) => (PathBuf::from(path), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
        },
    };
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some((shown, text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
        Err(e) => Err(ConfigError {
            origin: shown,
            service: None,
            message: format!("cannot read the configuration file: {e}"),
        }),
    }
}

/// The service `name` (an exact name or a unique short one) stands for, or the error.
fn lookup<'a>(aliases: &HashMap<&str, &'a str>, name: &str, origin: &str) -> Result<&'a str, ConfigError> {
    if let Some(service) = aliases.get(name) {
        return Ok(service);
    }
    let mut known: Vec<&str> = aliases.values().copied().collect();
    known.sort_unstable();
    known.dedup();
    let hint = match host_syntax::did_you_mean(name, aliases.keys().copied()) {
        Some(near) => format!("did you mean `{near}`? "),
        None => String::new(),
    };
    Err(ConfigError {
        origin: origin.to_owned(),
        service: None,
        message: format!(
            "no service is named `{name}`; {hint}known services: {}",
            sorted_list(known.iter().map(|k| format!("`{k}`")))
        ),
    })
}

fn sorted_list(items: impl Iterator<Item = String>) -> String {
    let mut items: Vec<String> = items.collect();
    items.sort();
    items.join(", ")
}

fn quoted_key(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

fn unknown(what: &str, given: &str, valid: &[&str]) -> String {
    let hint = match host_syntax::did_you_mean(given, valid.iter().copied()) {
        Some(near) => format!("did you mean `{near}`? "),
        None => String::new(),
    };
    format!("unknown {what} `{given}`; {hint}valid: {}", valid.join(", "))
}

/// A duration with the grammar the macros use; `zero_is_none`: `"0s"` turns the option off.
fn duration(text: &str, origin: &str, service: Option<&str>, zero_is_none: bool) -> Result<Duration, ConfigError> {
    host_syntax::parse_duration(text).or_else(|e| match e {
        host_syntax::DurationError::Zero if zero_is_none => Ok(Duration::ZERO),
        e => Err(ConfigError {
            origin: origin.to_owned(),
            service: service.map(str::to_owned),
            message: format!("invalid duration `{text:?}`: {e}; expected {DURATION_GRAMMAR}"),
        }),
    })
}

/// A value as text: an environment variable's, or a file's string.
struct Value<'a> {
    text: &'a str,
    origin: &'a str,
    service: &'a str,
}

impl Value<'_> {
    fn error(&self, expected: &str) -> ConfigError {
        ConfigError {
            origin: self.origin.to_owned(),
            service: Some(self.service.to_owned()),
            message: format!("invalid value `{}`; expected {expected}", self.text),
        }
    }

    fn set<T>(&self, value: T) -> Option<Set<T>> {
        Some(Set {
            value,
            origin: self.origin.to_owned(),
        })
    }

    fn duration(&self, zero_is_none: bool) -> Result<Duration, ConfigError> {
        duration(self.text, self.origin, Some(self.service), zero_is_none)
    }

    fn bool(&self) -> Result<bool, ConfigError> {
        match self.text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(self.error("`true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`)")),
        }
    }

    fn cron(&self) -> Result<String, ConfigError> {
        #[cfg(feature = "cron")]
        if let Err(e) = host_cron::check(self.text) {
            return Err(ConfigError {
                origin: self.origin.to_owned(),
                service: Some(self.service.to_owned()),
                message: match e {
                    host_cron::CronError::NeverFires => format!("the cron expression `{:?}` {e}", self.text),
                    e => format!(
                        "invalid cron expression `{:?}`: {e}; expected 5 fields (`minute hour day month weekday`) or 6 \
                         with `second` first",
                        self.text
                    ),
                },
            });
        }
        Ok(self.text.to_owned())
    }

    fn u32(&self, what: &str) -> Result<u32, ConfigError> {
        self.text.trim().parse().map_err(|_| self.error(what))
    }

    fn optional<T>(&self, parse: impl FnOnce(&Self) -> Result<T, ConfigError>) -> Result<Option<T>, ConfigError> {
        if self.text.eq_ignore_ascii_case("none") {
            Ok(None)
        } else {
            parse(self).map(Some)
        }
    }

    fn f64(&self, what: &str, range: std::ops::RangeInclusive<f64>) -> Result<f64, ConfigError> {
        match self.text.trim().parse::<f64>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(self.error(what)),
        }
    }

    /// Sets `option` (the file's spelling; `restart_<param>` for a restart parameter).
    fn apply(&self, option: &str, o: &mut Overrides) -> Result<(), ConfigError> {
        match option {
            "enabled" => o.enabled = self.set(self.bool()?),
            "every" => o.trigger = self.set(TriggerValue::Every(self.duration(false)?)),
            "fixed_delay" => o.trigger = self.set(TriggerValue::FixedDelay(self.duration(false)?)),
            "cron" => o.trigger = self.set(TriggerValue::Cron(self.cron()?)),
            "tz" => o.tz = self.set(self.text.to_owned()),
            "initial_delay" => o.initial_delay = self.set(self.duration(true)?),
            "jitter" => o.jitter = self.set(self.duration(true)?),
            "missed_ticks" => {
                let value = match self.text {
                    "skip" => MissedTicks::Skip,
                    "burst" => MissedTicks::Burst,
                    "delay" => MissedTicks::Delay,
                    _ => return Err(self.error("`skip`, `burst` or `delay`")),
                };
                o.missed_ticks = self.set(value);
            }
            "timeout" => o.timeout = self.set(self.optional(|v| v.duration(false))?),
            "max_failures" => {
                let what = "a whole number of consecutive failed runs, at least 1, or `none`";
                let n = self.optional(|v| v.u32(what))?;
                if n == Some(0) {
                    return Err(self.error(what));
                }
                o.max_failures = self.set(n);
            }
            "order" => {
                let order = self
                    .text
                    .trim()
                    .parse()
                    .map_err(|_| self.error("a whole number (negative starts earlier), like `10` or `-5`"))?;
                o.order = self.set(order);
            }
            "on_failure" => {
                let policy = match self.text {
                    "stop-host" => Policy::StopHost,
                    "ignore" => Policy::Ignore,
                    "restart" => Policy::Restart,
                    _ => return Err(self.error("`stop-host`, `ignore` or `restart`")),
                };
                o.on_failure = self.set(policy);
            }
            "restart_initial" => o.restart.initial = self.set(self.duration(false)?),
            "restart_max" => o.restart.max = self.set(self.duration(false)?),
            "restart_window" => o.restart.window = self.set(self.duration(false)?),
            "restart_factor" => {
                o.restart.factor = self.set(self.f64("a number from 1 to 1000, like `2` or `1.5`", 1.0..=1000.0)?);
            }
            "restart_jitter" => o.restart.jitter = self.set(self.f64("a fraction from 0 to 1, like `0.1`", 0.0..=1.0)?),
            "restart_max_restarts" => {
                o.restart.max_restarts = self.set(self.u32("a whole number of restarts, like `5`")?);
            }
            _ => {}
        }
        Ok(())
    }
}

fn env_option(option: &str, value: &str, var: &str, service: &str) -> Result<Overrides, ConfigError> {
    let mut o = Overrides::default();
    let value = Value {
        text: value,
        origin: var,
        service,
    };
    value.apply(&option.to_ascii_lowercase(), &mut o)?;
    Ok(o)
}

/// The options of one `[services."name"]` table.
fn file_options(table: &toml::Table, origin: &str, service: &str) -> Result<Overrides, ConfigError> {
    let mut o = Overrides::default();
    for (key, value) in table {
        let origin = format!("{origin}.{}", quoted_key(key));
        if !OPTIONS.contains(&key.as_str()) {
            return Err(ConfigError {
                origin,
                service: Some(service.to_owned()),
                message: unknown("option", key, &OPTIONS),
            });
        }
        if key == "restart" {
            let restart = value.as_table().ok_or_else(|| ConfigError {
                origin: origin.clone(),
                service: Some(service.to_owned()),
                message: format!(
                    "expected a table of restart parameters (`restart = {{ initial = \"1s\", max = \"30s\" }}`; {}), found `{value}`",
                    RESTART_OPTIONS.join(", ")
                ),
            })?;
            for (param, value) in restart {
                let origin = format!("{origin}.{}", quoted_key(param));
                if !RESTART_OPTIONS.contains(&param.as_str()) {
                    return Err(ConfigError {
                        origin,
                        service: Some(service.to_owned()),
                        message: unknown("restart parameter", param, &RESTART_OPTIONS),
                    });
                }
                file_value(&format!("restart_{param}"), value, &origin, service, &mut o)?;
            }
            continue;
        }
        file_value(key, value, &origin, service, &mut o)?;
    }
    Ok(o)
}

/// A file's value, as text through the same parsers as the environment's (TOML booleans and
/// numbers are accepted where they fit).
fn file_value(
    option: &str,
    value: &toml::Value,
    origin: &str,
    service: &str,
    o: &mut Overrides,
) -> Result<(), ConfigError> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) if option == "enabled" => b.to_string(),
        toml::Value::Integer(i)
            if matches!(
                option,
                "order" | "max_failures" | "restart_max_restarts" | "restart_factor" | "restart_jitter"
            ) =>
        {
            i.to_string()
        }
        toml::Value::Float(f) if matches!(option, "restart_factor" | "restart_jitter") => f.to_string(),
        other => {
            return Err(ConfigError {
                origin: origin.to_owned(),
                service: Some(service.to_owned()),
                message: format!("invalid value `{other}`; expected {}", file_type(option)),
            });
        }
    };
    Value {
        text: &text,
        origin,
        service,
    }
    .apply(option, o)
}

fn file_type(option: &str) -> &'static str {
    match option {
        "enabled" => "`true` or `false`",
        "order" => "an integer",
        "max_failures" | "restart_max_restarts" => "an integer (or the string `\"none\"` for `max_failures`)",
        "restart_factor" | "restart_jitter" => "a number",
        "cron" => "a cron expression (a string)",
        "tz" => "an IANA time zone name (a string), like `\"Europe/Berlin\"`",
        "missed_ticks" => "`\"skip\"`, `\"burst\"` or `\"delay\"`",
        "on_failure" => "`\"stop-host\"`, `\"ignore\"` or `\"restart\"`",
        _ => "a duration string such as \"30s\", \"5m\" or \"1h 30m\"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(env_name("my_app::jobs::cleanup"), "MY_APP__JOBS__CLEANUP");
        assert_eq!(env_name("report-mailer"), "REPORT_MAILER");
    }

    #[test]
    fn short_names_only_when_unique() {
        let names = ["a::cleanup", "b::cleanup", "a::report", "mailer"];
        let aliases = aliases(&names);
        assert_eq!(aliases.get("report"), Some(&"a::report"));
        assert_eq!(aliases.get("cleanup"), None);
        assert_eq!(aliases.get("a::cleanup"), Some(&"a::cleanup"));
        assert_eq!(aliases.get("mailer"), Some(&"mailer"));
    }
}
