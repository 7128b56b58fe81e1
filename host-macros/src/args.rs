//! Parsing the attribute's `key = value` list into typed [`Args`], each value kept with its spans.
//!
//! Every option is parsed on its own (the list is split at its top-level commas first), so one
//! bad value does not hide the problems of the others. Checks that concern a single value
//! (durations, ranges, cron syntax) happen here; checks between options are in `validate`.

use std::time::Duration;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned as _;
use syn::{Ident, LitFloat, LitInt, LitStr, Token};

use crate::diag::{Errors, did_you_mean, list};
use crate::{cron, duration};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Attr {
    HostedService,
    Periodic,
}

impl Attr {
    /// The attribute as users write it, for messages.
    pub(crate) fn display(self) -> &'static str {
        match self {
            Attr::HostedService => "#[hosted_service]",
            Attr::Periodic => "#[periodic]",
        }
    }
}

/// A parsed value with the span of its key and of the value itself.
#[derive(Clone, Debug)]
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) key: Span,
    pub(crate) span: Span,
}

/// Every option of both attributes; the parser only fills those of its attribute.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) krate: Option<Spanned<syn::Path>>,
    pub(crate) order: Option<Spanned<i32>>,
    pub(crate) on_failure: Option<Spanned<Policy>>,
    /// `enabled = false`: registered switched off, for configuration to switch on.
    pub(crate) enabled: Option<Spanned<bool>>,
    // `#[hosted_service]` on a type
    pub(crate) new: Option<Spanned<syn::Path>>,
    // `#[periodic]`
    pub(crate) every: Option<Spanned<Duration>>,
    pub(crate) fixed_delay: Option<Spanned<Duration>>,
    /// The expression and the shortest interval between two of its runs.
    pub(crate) cron: Option<Spanned<(String, Duration)>>,
    pub(crate) tz: Option<Spanned<String>>,
    pub(crate) initial_delay: Option<Spanned<Duration>>,
    pub(crate) jitter: Option<Spanned<Duration>>,
    pub(crate) missed_ticks: Option<Spanned<MissedTicks>>,
    pub(crate) timeout: Option<Spanned<Duration>>,
    pub(crate) max_failures: Option<Spanned<u32>>,
    // Singleton jobs across replicas
    pub(crate) singleton: Option<Spanned<()>>,
    pub(crate) catch_up: Option<Spanned<CatchUp>>,
    pub(crate) lease: Option<Spanned<Duration>>,
}

/// `on_failure = …`
#[derive(Clone, Debug)]
pub(crate) enum Policy {
    StopHost,
    Ignore,
    Restart(Restart),
}

/// `on_failure = restart(…)`; absent keys keep the runtime's defaults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Restart {
    pub(crate) initial: Option<Spanned<Duration>>,
    pub(crate) max: Option<Spanned<Duration>>,
    pub(crate) factor: Option<Spanned<f64>>,
    pub(crate) jitter: Option<Spanned<f64>>,
    pub(crate) max_restarts: Option<Spanned<u32>>,
    pub(crate) window: Option<Spanned<Duration>>,
}

/// `missed_ticks = …`
#[derive(Clone, Copy, Debug)]
pub(crate) enum MissedTicks {
    Skip,
    Burst,
    Delay,
}

/// `catch_up = …`
#[derive(Clone, Copy, Debug)]
pub(crate) enum CatchUp {
    Skip,
    Once,
}

const POLICIES: [&str; 3] = ["stop-host", "ignore", "restart"];
const MISSED_TICKS: [&str; 3] = ["skip", "burst", "delay"];

mod kw {
    syn::custom_keyword!(restart);
}

/// An option name.
trait Keyword: Copy + PartialEq + 'static {
    fn name(self) -> &'static str;
    /// The option with a typical value, for messages: `every = "30s"`.
    fn example(self) -> &'static str;
    /// An option written without a value, like `singleton`.
    fn is_flag(self) -> bool {
        false
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    Every,
    FixedDelay,
    Cron,
    Tz,
    InitialDelay,
    Jitter,
    MissedTicks,
    Timeout,
    MaxFailures,
    Singleton,
    CatchUp,
    Lease,
    Name,
    Order,
    OnFailure,
    Crate,
    New,
    Enabled,
}

/// One row per option: `(key, name, example, the attribute it belongs to (`None`: both))`, in
/// the order of the enum, so `KEYS[key as usize]` is the key's row (a test checks it).
const KEYS: [(Key, &str, &str, Option<Attr>); 18] = [
    (Key::Every, "every", "every = \"30s\"", Some(Attr::Periodic)),
    (
        Key::FixedDelay,
        "fixed_delay",
        "fixed_delay = \"10s\"",
        Some(Attr::Periodic),
    ),
    (Key::Cron, "cron", "cron = \"0 */5 * * * *\"", Some(Attr::Periodic)),
    (Key::Tz, "tz", "tz = \"Europe/Berlin\"", Some(Attr::Periodic)),
    (
        Key::InitialDelay,
        "initial_delay",
        "initial_delay = \"5s\"",
        Some(Attr::Periodic),
    ),
    (Key::Jitter, "jitter", "jitter = \"2s\"", Some(Attr::Periodic)),
    (
        Key::MissedTicks,
        "missed_ticks",
        "missed_ticks = \"burst\"",
        Some(Attr::Periodic),
    ),
    (Key::Timeout, "timeout", "timeout = \"1m\"", Some(Attr::Periodic)),
    (
        Key::MaxFailures,
        "max_failures",
        "max_failures = 3",
        Some(Attr::Periodic),
    ),
    (Key::Singleton, "singleton", "singleton", Some(Attr::Periodic)),
    (Key::CatchUp, "catch_up", "catch_up = \"once\"", Some(Attr::Periodic)),
    (Key::Lease, "lease", "lease = \"30s\"", Some(Attr::Periodic)),
    (Key::Name, "name", "name = \"billing\"", None),
    (Key::Order, "order", "order = 10", None),
    (Key::OnFailure, "on_failure", "on_failure = \"restart\"", None),
    (Key::Crate, "crate", "crate = \"my_host\"", None),
    (Key::New, "new", "new = Mailer::new", Some(Attr::HostedService)),
    (Key::Enabled, "enabled", "enabled = false", None),
];

impl Key {
    const ALL: [Key; 18] = {
        let mut all = [Key::Every; 18];
        let mut i = 0;
        while i < KEYS.len() {
            all[i] = KEYS[i].0;
            i += 1;
        }
        all
    };

    /// The attribute this option belongs to; `None`: both.
    fn only_for(self) -> Option<Attr> {
        KEYS[self as usize].3
    }

    fn of(attr: Attr) -> impl Iterator<Item = Key> {
        Key::ALL
            .into_iter()
            .filter(move |k| k.only_for().is_none_or(|a| a == attr))
    }

    /// The option `ident` names, if `attr` takes it.
    fn lookup(attr: Attr, ident: &Ident, rest: ParseStream) -> syn::Result<Key> {
        let given = ident.unraw().to_string();
        let takes = list(Key::of(attr).map(Key::name));
        if let Some(message) = restart_outside_policy(&given, rest) {
            return Err(syn::Error::new(ident.span(), message));
        }
        match Key::ALL.into_iter().find(|k| k.name() == given) {
            Some(key) if key.only_for().is_none_or(|a| a == attr) => Ok(key),
            Some(key) => {
                let (other, hint) = match key {
                    Key::New => ("#[hosted_service]", "on a struct or enum, to name its constructor"),
                    Key::Singleton | Key::CatchUp | Key::Lease => (
                        "#[periodic]",
                        "for a job whose every tick runs once across replicas: \
                         `#[host::periodic(every = \"1m\", singleton)]`; a hosted service runs on every replica",
                    ),
                    _ => (
                        "#[periodic]",
                        "to run a function on a schedule: `#[host::periodic(every = \"30s\")]`",
                    ),
                };
                let this = attr.display();
                Err(syn::Error::new(
                    ident.span(),
                    format!("`{given}` is an option of `{other}` ({hint}); `{this}` takes: {takes}"),
                ))
            }
            None => Err(unknown(
                ident,
                &given,
                Key::of(attr).map(Key::name),
                &takes,
                attr.display(),
            )),
        }
    }
}

impl Keyword for Key {
    fn name(self) -> &'static str {
        KEYS[self as usize].1
    }

    fn example(self) -> &'static str {
        KEYS[self as usize].2
    }

    fn is_flag(self) -> bool {
        self == Key::Singleton
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RestartKey {
    Initial,
    Max,
    Factor,
    Jitter,
    MaxRestarts,
    Window,
}

/// `(key, name, example)` per option of `restart(…)`, in the order of the enum.
const RESTART_KEYS: [(RestartKey, &str, &str); 6] = [
    (RestartKey::Initial, "initial", "initial = \"1s\""),
    (RestartKey::Max, "max", "max = \"30s\""),
    (RestartKey::Factor, "factor", "factor = 2.0"),
    (RestartKey::Jitter, "jitter", "jitter = 0.1"),
    (RestartKey::MaxRestarts, "max_restarts", "max_restarts = 5"),
    (RestartKey::Window, "window", "window = \"60s\""),
];

impl RestartKey {
    const ALL: [RestartKey; 6] = [
        RESTART_KEYS[0].0,
        RESTART_KEYS[1].0,
        RESTART_KEYS[2].0,
        RESTART_KEYS[3].0,
        RESTART_KEYS[4].0,
        RESTART_KEYS[5].0,
    ];

    fn lookup(ident: &Ident) -> syn::Result<RestartKey> {
        let given = ident.unraw().to_string();
        match RestartKey::ALL.into_iter().find(|k| k.name() == given) {
            Some(key) => Ok(key),
            None => {
                let names = RestartKey::ALL.map(RestartKey::name);
                Err(unknown(ident, &given, names, &list(names), "restart(…)"))
            }
        }
    }
}

impl Keyword for RestartKey {
    fn name(self) -> &'static str {
        RESTART_KEYS[self as usize].1
    }

    fn example(self) -> &'static str {
        RESTART_KEYS[self as usize].2
    }
}

fn unknown<'a>(
    ident: &Ident,
    given: &str,
    names: impl IntoIterator<Item = &'a str>,
    takes: &str,
    what: &str,
) -> syn::Error {
    let hint = match did_you_mean(given, names) {
        Some(name) => format!("; did you mean `{name}`?"),
        None => String::new(),
    };
    syn::Error::new(
        ident.span(),
        format!("unknown option `{given}`{hint} `{what}` takes: {takes}"),
    )
}

/// `restart(…)`, or one of its options, written as a top-level option: the back-off is part of the
/// failure policy. The message repeats what was written, inside `on_failure = restart(…)`.
fn restart_outside_policy(given: &str, rest: ParseStream) -> Option<String> {
    let rest: TokenStream = rest.fork().parse().unwrap_or_default();
    let fix = if given == "restart" {
        let inner = match rest.into_iter().next() {
            Some(TokenTree::Group(g)) => g.stream().to_string(),
            _ => String::new(),
        };
        format!("on_failure = restart({inner})")
    } else if RestartKey::ALL
        .iter()
        .any(|k| k.name() == given && *k != RestartKey::Jitter)
    {
        format!("on_failure = restart({given} {rest})")
    } else {
        return None;
    };
    Some(format!(
        "`{given}` is not an option of its own: restart back-off is part of the failure policy; write `{fix}`"
    ))
}

/// A string with no option name: say which option it likely is.
fn bare_literal(attr: Attr, lit: &LitStr) -> String {
    let value = lit.value();
    let option = match attr {
        Attr::HostedService => "name",
        // A cron expression has 5 or 6 fields, or is a `@nickname`; `"1m 30s"` is a duration.
        Attr::Periodic if value.split_whitespace().count() >= 5 || value.trim().starts_with('@') => "cron",
        Attr::Periodic => "every",
    };
    format!(
        "options are named: did you mean `{option} = {value:?}`? `{}` takes: {}",
        attr.display(),
        list(Key::of(attr).map(Key::name))
    )
}

/// Parses the attribute's arguments; reports every bad option at once.
pub(crate) fn parse(attr: Attr, tokens: TokenStream) -> syn::Result<Args> {
    let mut args = Args::default();
    let mut errors = Errors::default();
    each_option(
        tokens,
        |ident, rest| Key::lookup(attr, ident, rest),
        |lit| bare_literal(attr, lit),
        &mut errors,
        |key, ident, input| {
            match key {
                Key::Name => args.name = Some(name(ident, input)?),
                Key::Crate => args.krate = Some(krate(ident, input)?),
                Key::Order => args.order = Some(integer(key, ident, input, "an integer")?),
                Key::OnFailure => args.on_failure = Some(policy(ident, input)?),
                Key::New => args.new = Some(constructor(ident, input)?),
                Key::Enabled => args.enabled = Some(boolean(key, ident, input)?),
                Key::Every => args.every = Some(duration(key, ident, input)?),
                Key::FixedDelay => args.fixed_delay = Some(duration(key, ident, input)?),
                Key::InitialDelay => args.initial_delay = Some(duration(key, ident, input)?),
                Key::Jitter => args.jitter = Some(duration(key, ident, input)?),
                Key::Timeout => args.timeout = Some(duration(key, ident, input)?),
                Key::Cron => {
                    let lit = string(key, input)?;
                    let shortest = cron::check_expr(&lit)?;
                    args.cron = Some(Spanned {
                        value: (lit.value(), shortest),
                        key: ident.span(),
                        span: lit.span(),
                    });
                }
                Key::Tz => {
                    let lit = string(key, input)?;
                    cron::check_tz(&lit)?;
                    args.tz = Some(Spanned {
                        value: lit.value(),
                        key: ident.span(),
                        span: lit.span(),
                    });
                }
                Key::MissedTicks => args.missed_ticks = Some(missed_ticks(ident, input)?),
                Key::Singleton => {
                    args.singleton = Some(Spanned {
                        value: (),
                        key: ident.span(),
                        span: ident.span(),
                    });
                }
                Key::CatchUp => args.catch_up = Some(catch_up(ident, input)?),
                Key::Lease => args.lease = Some(duration(key, ident, input)?),
                Key::MaxFailures => {
                    let n: Spanned<u32> = integer(key, ident, input, "a positive integer")?;
                    if n.value == 0 {
                        return Err(syn::Error::new(
                            n.span,
                            "`max_failures` must be at least 1: it is the number of consecutive failed runs \
                             after which the service has failed; remove it to let the schedule go on after any \
                             failure",
                        ));
                    }
                    args.max_failures = Some(n);
                }
            }
            Ok(())
        },
    );
    errors.finish(args)
}

/// Splits `tokens` at its top-level commas and hands each `key = value` to `option` with the
/// value's tokens as a stream that must be consumed entirely. Rejects unknown and repeated keys.
fn each_option<K: Keyword>(
    tokens: TokenStream,
    lookup: impl Fn(&Ident, ParseStream) -> syn::Result<K>,
    bare: impl Fn(&LitStr) -> String,
    errors: &mut Errors,
    mut option: impl FnMut(K, &Ident, ParseStream) -> syn::Result<()>,
) {
    let mut seen: Vec<K> = Vec::new();
    let mut segments: Vec<Vec<TokenTree>> = vec![Vec::new()];
    for tree in tokens {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => segments.push(Vec::new()),
            _ => segments.last_mut().expect("never empty").push(tree),
        }
    }
    if segments.last().is_some_and(Vec::is_empty) {
        segments.pop(); // a trailing comma, or no options at all
    }
    for segment in segments {
        let parse_one = |input: ParseStream| -> syn::Result<()> {
            if input.is_empty() {
                return Err(input.error("expected an option here, like `name = \"…\"`; remove the extra comma"));
            }
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                return Err(syn::Error::new(lit.span(), bare(&lit)));
            }
            let ident = Ident::parse_any(input)
                .map_err(|e| syn::Error::new(e.span(), "expected an option name, like `name = \"…\"`"))?;
            let key = lookup(&ident, input)?;
            if seen.contains(&key) {
                return Err(syn::Error::new(
                    ident.span(),
                    format!("`{}` is set twice; remove one", key.name()),
                ));
            }
            seen.push(key);
            if key.is_flag() {
                if input.peek(Token![=]) {
                    let eq: Token![=] = input.parse()?;
                    let value: TokenStream = input.parse()?;
                    let span = value.into_iter().next().map_or(eq.span, |t| t.span());
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "`{}` is a flag and takes no value: write `{}` alone (remove it to turn it off)",
                            key.name(),
                            key.example()
                        ),
                    ));
                }
                return option(key, &ident, input);
            }
            if !input.peek(Token![=]) {
                return Err(syn::Error::new(
                    ident.span(),
                    format!("`{}` needs a value: `{}`", key.name(), key.example()),
                ));
            }
            let eq: Token![=] = input.parse()?;
            if input.is_empty() {
                return Err(syn::Error::new(
                    eq.span,
                    format!("`{}` needs a value: `{}`", key.name(), key.example()),
                ));
            }
            option(key, &ident, input)
        };
        errors.take(parse_one.parse2(segment.into_iter().collect()));
    }
}

/// The next token tree, for the span of a value that has the wrong shape.
fn wrong(input: ParseStream, message: String) -> syn::Error {
    let span = input
        .cursor()
        .token_tree()
        .map_or_else(|| input.span(), |(tree, _)| tree.span());
    syn::Error::new(span, message)
}

fn string(key: Key, input: ParseStream) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    Err(wrong(
        input,
        format!("`{}` takes a string: `{}`", key.name(), key.example()),
    ))
}

fn name(ident: &Ident, input: ParseStream) -> syn::Result<Spanned<String>> {
    let lit = string(Key::Name, input)?;
    let value = lit.value();
    if value.trim().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "`name` cannot be empty; remove it to use the default, the function's or type's path",
        ));
    }
    Ok(Spanned {
        value,
        key: ident.span(),
        span: lit.span(),
    })
}

fn krate(ident: &Ident, input: ParseStream) -> syn::Result<Spanned<syn::Path>> {
    let lit = string(Key::Crate, input)?;
    let path = lit.parse::<syn::Path>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`crate` must be a path to the `host` crate, like `\"my_host\"` or `\"::app::host\"`, not {:?}",
                lit.value()
            ),
        )
    })?;
    Ok(Spanned {
        value: path,
        key: ident.span(),
        span: lit.span(),
    })
}

fn constructor(ident: &Ident, input: ParseStream) -> syn::Result<Spanned<syn::Path>> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Err(syn::Error::new(
            lit.span(),
            format!("`new` takes a path, not a string: `new = {}`", lit.value()),
        ));
    }
    let path: syn::Path = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "`new` takes the path of a constructor, a function returning `Self`: `new = Mailer::new`",
        )
    })?;
    Ok(Spanned {
        span: path.span(),
        value: path,
        key: ident.span(),
    })
}

fn boolean(key: Key, ident: &Ident, input: ParseStream) -> syn::Result<Spanned<bool>> {
    if input.peek(syn::LitBool) {
        let lit: syn::LitBool = input.parse()?;
        return Ok(Spanned {
            value: lit.value,
            key: ident.span(),
            span: lit.span,
        });
    }
    Err(wrong(
        input,
        format!(
            "`{}` takes `true` or `false`, without quotes: `{}`",
            key.name(),
            key.example()
        ),
    ))
}

fn duration(key: Key, ident: &Ident, input: ParseStream) -> syn::Result<Spanned<Duration>> {
    duration_value(key.name(), key.example(), ident, input)
}

fn duration_value(name: &str, example: &str, ident: &Ident, input: ParseStream) -> syn::Result<Spanned<Duration>> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let value = duration::parse(&lit, name)?;
        return Ok(Spanned {
            value,
            key: ident.span(),
            span: lit.span(),
        });
    }
    let message = if input.peek(LitInt) {
        let n: LitInt = input.fork().parse()?;
        format!("durations are strings: `{name} = \"{}s\"`", n.base10_digits())
    } else {
        format!("durations are strings: `{example}`")
    };
    Err(wrong(input, message))
}

fn integer<T: std::str::FromStr>(
    key: impl Keyword,
    ident: &Ident,
    input: ParseStream,
    what: &str,
) -> syn::Result<Spanned<T>>
where
    T::Err: std::fmt::Display,
{
    let minus: Option<Token![-]> = input.parse()?;
    if !input.peek(LitInt) {
        return Err(wrong(
            input,
            format!("`{}` takes {what}: `{}`", key.name(), key.example()),
        ));
    }
    let lit: LitInt = input.parse()?;
    let digits = format!("{}{}", if minus.is_some() { "-" } else { "" }, lit.base10_digits());
    let span = minus.map_or(lit.span(), |m| m.span);
    let value = digits.parse::<T>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`{}` takes {what} that fits in {}",
                key.name(),
                std::any::type_name::<T>()
            ),
        )
    })?;
    Ok(Spanned {
        value,
        key: ident.span(),
        span,
    })
}

fn float(key: RestartKey, ident: &Ident, input: ParseStream) -> syn::Result<Spanned<f64>> {
    let minus: Option<Token![-]> = input.parse()?;
    let (value, span) = if input.peek(LitFloat) {
        let lit: LitFloat = input.parse()?;
        (lit.base10_parse::<f64>()?, lit.span())
    } else if input.peek(LitInt) {
        let lit: LitInt = input.parse()?;
        (lit.base10_parse::<f64>()?, lit.span())
    } else {
        return Err(wrong(
            input,
            format!("`{}` takes a number: `{}`", key.name(), key.example()),
        ));
    };
    let value = if minus.is_some() { -value } else { value };
    Ok(Spanned {
        value,
        key: ident.span(),
        span: minus.map_or(span, |m| m.span),
    })
}

fn policy(ident: &Ident, input: ParseStream) -> syn::Result<Spanned<Policy>> {
    if input.peek(kw::restart) {
        let restart: kw::restart = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let inner: TokenStream = content.parse()?;
        return Ok(Spanned {
            value: Policy::Restart(restart_options(inner)?),
            key: ident.span(),
            span: restart.span,
        });
    }
    let lit = string(Key::OnFailure, input).map_err(|e| {
        syn::Error::new(
            e.span(),
            "`on_failure` takes `\"stop-host\"`, `\"ignore\"`, `\"restart\"` or `restart(initial = \"1s\", max = \"30s\", …)`",
        )
    })?;
    let value = match lit.value().as_str() {
        "stop-host" => Policy::StopHost,
        "ignore" => Policy::Ignore,
        "restart" => Policy::Restart(Restart::default()),
        other => {
            let hint = match did_you_mean(other, POLICIES) {
                Some(p) => format!("did you mean `\"{p}\"`? "),
                None => String::new(),
            };
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "unknown failure policy `{other:?}`; {hint}use `\"stop-host\"`, `\"ignore\"`, `\"restart\"` \
                     or `restart(initial = \"1s\", max = \"30s\", …)`"
                ),
            ));
        }
    };
    Ok(Spanned {
        value,
        key: ident.span(),
        span: lit.span(),
    })
}

fn restart_options(tokens: TokenStream) -> syn::Result<Restart> {
    let mut restart = Restart::default();
    let mut errors = Errors::default();
    let bare = |lit: &LitStr| {
        format!(
            "`restart(…)` options are named: `restart(initial = {:?})`; it takes: {}",
            lit.value(),
            list(RestartKey::ALL.map(RestartKey::name))
        )
    };
    each_option(
        tokens,
        |ident, _| RestartKey::lookup(ident),
        bare,
        &mut errors,
        |key, ident, input| {
            let (name, example) = (key.name(), key.example());
            match key {
                RestartKey::Initial => restart.initial = Some(duration_value(name, example, ident, input)?),
                RestartKey::Max => restart.max = Some(duration_value(name, example, ident, input)?),
                RestartKey::Window => restart.window = Some(duration_value(name, example, ident, input)?),
                RestartKey::Factor => {
                    let factor = float(key, ident, input)?;
                    if !(factor.value >= 1.0 && factor.value.is_finite()) {
                        return Err(syn::Error::new(
                            factor.span,
                            "`factor` must be at least 1.0: each further restart waits `factor` times longer",
                        ));
                    }
                    restart.factor = Some(factor);
                }
                RestartKey::Jitter => {
                    let jitter = float(key, ident, input)?;
                    if !(0.0..=1.0).contains(&jitter.value) {
                        return Err(syn::Error::new(
                            jitter.span,
                            "`jitter` is a fraction of each delay, from 0.0 to 1.0: `jitter = 0.1` adds up to 10%",
                        ));
                    }
                    restart.jitter = Some(jitter);
                }
                RestartKey::MaxRestarts => {
                    let n: Spanned<u32> = integer(key, ident, input, "a positive integer")?;
                    if n.value == 0 {
                        return Err(syn::Error::new(
                            n.span,
                            "`max_restarts = 0` would never restart; use `on_failure = \"stop-host\"` instead",
                        ));
                    }
                    restart.max_restarts = Some(n);
                }
            }
            Ok(())
        },
    );
    errors.finish(restart)
}

/// `catch_up = "skip"` / `"once"`.
fn catch_up(ident: &Ident, input: ParseStream) -> syn::Result<Spanned<CatchUp>> {
    let lit = string(Key::CatchUp, input)?;
    let value = match lit.value().as_str() {
        "skip" => CatchUp::Skip,
        "once" => CatchUp::Once,
        other => {
            let hint = match did_you_mean(other, ["skip", "once"]) {
                Some(m) => format!("did you mean `\"{m}\"`? "),
                None => String::new(),
            };
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "unknown `catch_up` policy `{other:?}`; {hint}use `\"once\"` (run one missed tick when the first \
                     replica comes back) or `\"skip\"` (the default)"
                ),
            ));
        }
    };
    Ok(Spanned {
        value,
        key: ident.span(),
        span: lit.span(),
    })
}

fn missed_ticks(ident: &Ident, input: ParseStream) -> syn::Result<Spanned<MissedTicks>> {
    let lit = string(Key::MissedTicks, input)?;
    let value = match lit.value().as_str() {
        "skip" => MissedTicks::Skip,
        "burst" => MissedTicks::Burst,
        "delay" => MissedTicks::Delay,
        other => {
            let hint = match did_you_mean(other, MISSED_TICKS) {
                Some(m) => format!("did you mean `\"{m}\"`? "),
                None => String::new(),
            };
            return Err(syn::Error::new(
                lit.span(),
                format!("unknown `missed_ticks` policy `{other:?}`; {hint}use `\"skip\"`, `\"burst\"` or `\"delay\"`"),
            ));
        }
    };
    Ok(Spanned {
        value,
        key: ident.span(),
        span: lit.span(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `KEYS[key as usize]` and `RESTART_KEYS[key as usize]` are the key's own rows.
    #[test]
    fn tables_are_in_enum_order() {
        for (i, (key, ..)) in KEYS.iter().enumerate() {
            assert_eq!(*key as usize, i, "{key:?}");
        }
        for (i, (key, ..)) in RESTART_KEYS.iter().enumerate() {
            assert_eq!(*key as usize, i, "{key:?}");
        }
        assert_eq!(Key::ALL.len(), KEYS.len());
        assert_eq!(
            Key::of(Attr::HostedService).map(Key::name).collect::<Vec<_>>(),
            ["name", "order", "on_failure", "crate", "new", "enabled"]
        );
    }
}
