//! [`Builder`]: options, discovery, selection and validation. Everything that can be wrong with a
//! host's configuration is reported by [`Builder::build`], before any service starts.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::WallTime;
use crate::error::Error;
use crate::handle::HostHandle;
use crate::host::Host;
use crate::inject::{Missing, Provided, Unprovided, Unresolved};
use crate::panic;
use crate::policy::FailurePolicy;
use crate::registry::{self, Registration};
use crate::slot::{Service, Slot};

/// The default shutdown timeout, as .NET's: 30 s.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Configures a [`Host`]: which services, and how it starts and stops.
///
/// ```
/// use host::{FailurePolicy, Host, Restart, Schedule, Service};
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), host::Error> {
/// Host::builder()
///     .service(Service::periodic("tick", Schedule::every(Duration::from_secs(1)), |_, _| async {}))
///     .except(["legacy-importer"])                 // all registered services but this one
///     .shutdown_timeout(Duration::from_secs(10))
///     .on_failure(FailurePolicy::Restart(Restart::new()))
///     .build()?
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a Builder does nothing until `.build()?.run().await`"]
pub struct Builder {
    services: Vec<Service>,
    discover: bool,
    allow_empty: bool,
    only: Option<Vec<String>>,
    except: Vec<String>,
    options: Options,
    wall_origin: Option<WallTime>,
    /// Shared values handed to services.
    provided: Provided,
    /// Where configuration overrides come from.
    #[cfg(feature = "config")]
    config: crate::config::Sources,
    /// Coordination of singleton jobs.
    coordination: Option<crate::coordination::Coordination>,
}

/// How a host runs, as configured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) shutdown_timeout: Duration,
    pub(crate) catch_signals: bool,
    /// `None`: the default, on exactly when signals are caught.
    pub(crate) hard_exit: Option<bool>,
    pub(crate) policy: FailurePolicy,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            services: Vec::new(),
            discover: true,
            allow_empty: false,
            only: None,
            except: Vec::new(),
            options: Options {
                shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
                catch_signals: true,
                hard_exit: None,
                policy: FailurePolicy::StopHost,
            },
            wall_origin: None,
            provided: Provided::default(),
            #[cfg(feature = "config")]
            config: crate::config::Sources::default(),
            coordination: None,
        }
    }
}

impl Builder {
    /// Adds a service built by hand (in addition to the registered ones).
    pub fn service(mut self, service: Service) -> Self {
        self.services.push(service);
        self
    }

    /// Adds many services built by hand.
    pub fn services(mut self, services: impl IntoIterator<Item = Service>) -> Self {
        self.services.extend(services);
        self
    }

    /// Whether to include the services registered by the attribute macros and
    /// [`register!`](crate::register) (default `true`).
    pub fn discover(mut self, yes: bool) -> Self {
        self.discover = yes;
        self
    }

    /// Whether a host with no service at all may run (default `false`: [`build`](Self::build)
    /// fails with [`Error::NoServices`], which names the usual cause, services declared in a
    /// library crate the binary never references).
    pub fn allow_empty(mut self, yes: bool) -> Self {
        self.allow_empty = yes;
        self
    }

    /// Runs only the services with these names (for tests, or one binary per role). An unknown name
    /// makes [`build`](Self::build) fail with the list of known ones; an empty list fails too.
    pub fn only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.only = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Runs every service except these. An unknown name makes [`build`](Self::build) fail.
    pub fn except<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.except.extend(names.into_iter().map(Into::into));
        self
    }

    /// The bound on the whole shutdown, from the stop request until every service has stopped or
    /// was aborted (default 30 s). `Duration::MAX` means no limit. See [`Host::run`] for how it
    /// is shared between bodies and stop hooks.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = timeout;
        self
    }

    /// Whether SIGINT/SIGTERM (Ctrl+C elsewhere) stop the host (default `true`). They are watched
    /// from a thread of the host's own, so a blocked runtime cannot miss them.
    pub fn catch_signals(mut self, yes: bool) -> Self {
        self.options.catch_signals = yes;
        self
    }

    /// Whether the host may end the process (default: on exactly when it
    /// [catches signals](Self::catch_signals), i.e. when it owns the process): a second signal
    /// during shutdown exits at once with [`FORCED_EXIT_CODE`](crate::FORCED_EXIT_CODE), and a
    /// process still alive at the shutdown timeout plus [`SHUTDOWN_GRACE`](crate::SHUTDOWN_GRACE)
    /// (a service blocking its thread) exits with [`STUCK_EXIT_CODE`](crate::STUCK_EXIT_CODE),
    /// naming the services still running. Turn it off for a host embedded in a larger program.
    pub fn hard_exit(mut self, yes: bool) -> Self {
        self.options.hard_exit = Some(yes);
        self
    }

    /// The failure policy of every service that does not choose its own (default
    /// [`FailurePolicy::StopHost`]).
    pub fn on_failure(mut self, policy: FailurePolicy) -> Self {
        self.options.policy = policy;
        self
    }

    /// Makes `value` available to every service that asks for a [`Dep<T>`](crate::Dep) of its
    /// type: parameters of annotated functions, `new = path` constructors,
    /// [`Service::hosted_from`] and [`Service::periodic_from`]. One value per type (a second one
    /// replaces the first); tell two values of one type apart with newtypes
    /// (`struct ReadPool(Pool)`). See [`inject`](crate::inject).
    ///
    /// A parameter whose type was never provided makes [`build`](Self::build) fail with
    /// [`Error::MissingDependency`], before any service starts.
    pub fn provide<T: Send + Sync + 'static>(self, value: T) -> Self {
        self.provide_arc(Arc::new(value))
    }

    /// [`provide`](Self::provide) for a value already behind an `Arc` (shared with code outside
    /// the host).
    pub fn provide_arc<T: Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.provided.insert(value);
        self
    }

    /// Reads configuration overrides from `path` (which must exist) instead of `$HOST_CONFIG` or
    /// `host.toml`. See [`config`](crate::config) for the file's shape.
    #[cfg(feature = "config")]
    pub fn config_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.file = crate::config::FileSource::Path(path.into());
        self
    }

    /// Reads `HOST_*` overrides from these variables instead of the process's environment (for
    /// tests, or a host embedded in a program with its own settings).
    #[cfg(feature = "config")]
    pub fn config_env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.config.env = crate::config::EnvSource::Map(vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

    /// Whether to read configuration overrides at all (default `true`: the file, then the
    /// environment). `false` runs exactly what the code says.
    #[cfg(feature = "config")]
    pub fn config(mut self, yes: bool) -> Self {
        if yes {
            self.config = crate::config::Sources::default();
        } else {
            self.config.file = crate::config::FileSource::Off;
            self.config.env = crate::config::EnvSource::Off;
        }
        self
    }

    /// How [singleton](crate::Schedule::singleton) jobs agree across replicas on who
    /// runs each tick, e.g. `host::postgres::Postgres::new(url)` (cargo feature `postgres`). A
    /// singleton job without it makes [`build`](Self::build) fail with
    /// [`ScheduleError::SingletonWithoutCoordination`](crate::ScheduleError::SingletonWithoutCoordination).
    pub fn coordination(mut self, coordination: impl Into<crate::coordination::Coordination>) -> Self {
        self.coordination = Some(coordination.into());
        self
    }

    /// Pins the wall-clock time at which the host's clock starts, for deterministic tests of cron
    /// schedules under tokio's paused clock.
    #[cfg(feature = "cron")]
    #[doc(hidden)]
    pub fn wall_clock_origin(mut self, at: jiff::Timestamp) -> Self {
        self.wall_origin = Some(at);
        self
    }

    /// Collects the services, checks names (unique, not blank) and the `only`/`except` selection,
    /// constructs the selected registered services (a panicking constructor is an error naming
    /// it), validates every schedule, and sorts them into start order. Nothing runs yet.
    pub fn build(self) -> Result<Host, Error> {
        let Builder {
            services,
            discover,
            allow_empty,
            only,
            except,
            options,
            wall_origin,
            provided,
            #[cfg(feature = "config")]
            config,
            coordination,
        } = self;
        let mut services = Dropping(services);
        // Names and locations first: registered services are constructed only once selected, so
        // a constructor with side effects never runs for a service that will not.
        let registered: Vec<&'static Registration> = if discover {
            registry::registrations().collect()
        } else {
            Vec::new()
        };
        // Every name, registered or added by hand, sorted once: the duplicate check, the lookups
        // of `only` and `except`, the list of known names, and (when every service is kept) the
        // start order's ranking by name all read this. A host of 100 000 services builds it inside
        // its start-up, so it is not also a hash set of the names.
        let count = registered.len() + services.0.len();
        let name_of = |at: usize| match registered.get(at) {
            Some(r) => r.name,
            None => &*services.0[at - registered.len()].name,
        };
        let location_of = |at: usize| match registered.get(at) {
            Some(r) => r.location(),
            None => services.0[at - registered.len()].location(),
        };
        let by_name = NameOrder::sort(count, name_of).ok_or(Error::TooManyServices { count })?;
        if let Some((name, first, second)) = by_name.first_mistake(name_of) {
            return Err(match first {
                None => Error::InvalidName {
                    name: name.to_owned(),
                    location: location_of(second),
                },
                Some(first) => Error::DuplicateName {
                    name: name.to_owned(),
                    first: location_of(first),
                    second: location_of(second),
                },
            });
        }
        if count == 0 && !allow_empty {
            return Err(Error::NoServices);
        }
        if only.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::EmptySelection);
        }
        for name in only.iter().flatten().chain(&except) {
            if !by_name.contains(name, name_of) {
                return Err(Error::UnknownService {
                    name: name.clone(),
                    known: by_name.names(name_of).map(str::to_owned).collect(),
                });
            }
        }
        // Configuration, read and checked against every known name before anything is
        // constructed; a service it disables is never constructed.
        #[cfg(feature = "config")]
        let config = crate::config::Config::load(&config, || by_name.names(name_of).collect())?;
        #[cfg(feature = "config")]
        let options = Options {
            shutdown_timeout: config.shutdown_timeout().unwrap_or(options.shutdown_timeout),
            ..options
        };
        // A registration may be switched off by its attribute (`enabled = false`).
        let disabled: HashSet<&str> = registered.iter().filter(|r| !r.enabled).map(|r| r.name).collect();
        #[cfg(feature = "config")]
        let enabled = |name: &str| config.enabled(name, !disabled.contains(name));
        #[cfg(not(feature = "config"))]
        let enabled = |name: &str| !disabled.contains(name);
        let only: Option<HashSet<&str>> = only.as_ref().map(|v| v.iter().map(String::as_str).collect());
        let except: HashSet<&str> = except.iter().map(String::as_str).collect();
        let selected =
            |name: &str| only.as_ref().is_none_or(|o| o.contains(name)) && !except.contains(name) && enabled(name);
        // The services added by hand stay in their vector (a host of 100 000 services should not
        // copy them into another); the registered ones go in front of them.
        let mut built = Dropping(Vec::new());
        for r in registered.iter().filter(|r| selected(r.name)) {
            let service = r.build().map_err(|source| Error::Constructor {
                service: r.name.to_owned(),
                source,
            })?;
            built.0.push(service);
        }
        let mut all = Dropping(std::mem::take(&mut services.0));
        if !all.0.iter().all(|s| selected(&s.name)) {
            let kept = std::mem::take(&mut all.0)
                .into_iter()
                .filter_map(|s| {
                    if selected(&s.name) {
                        Some(s)
                    } else {
                        discard(s);
                        None
                    }
                })
                .collect();
            all.0 = kept;
        }
        all.0.splice(0..0, std::mem::take(&mut built.0));
        // Every service's injected values, checked for all of them before any
        // constructor runs, then resolved.
        check(&all.0, &provided)?;
        resolve(&mut all.0, &provided)?;
        #[cfg(feature = "config")]
        for s in &mut all.0 {
            config.apply(s)?;
        }
        for s in &all.0 {
            s.schedule()
                .map_or(Ok(()), crate::Schedule::validate)
                .map_err(|source| Error::InvalidSchedule {
                    service: s.name.to_string(),
                    source,
                })?;
        }
        // Singleton jobs need coordination, and the coordination a valid configuration.
        crate::coordination::check(coordination.as_ref(), all.0.iter().map(|s| (&*s.name, s.schedule())))?;
        // With every service kept, `all` holds them at the indices their names were sorted by
        // (registered first, then by hand): the name order is reused.
        let by_name = (all.0.len() == count).then_some(by_name);
        let all = std::mem::take(&mut all.0);
        let start = start_order(&all, by_name);
        let origin = wall_origin.map(|wall| (wall, tokio::time::Instant::now()));
        let handle = HostHandle::new(origin, options.shutdown_timeout);
        handle.queues().register(start.iter().map(|&at| &all[at as usize]));
        if let Some(coordination) = coordination {
            handle.set_coordination(coordination);
        }
        Ok(Host::new(all, start, handle, options))
    }
}

/// The start order: by `order`, then by name, as indices into `services`. The services are not
/// moved (moving whole services dominated a host's build time, and putting them in order in place
/// is a random walk over all of them): the host takes each from its place when it starts them.
/// Keys are sorted, and a name's first 16 bytes are compared as one integer, so that most
/// comparisons never look at the strings. `by_name`, when given, ranks these very services by name
/// already (the build's [`NameOrder`]): only their orders are left to sort by, and most hosts have
/// one. [`Builder::build`] refuses more than `u32::MAX` services, so every index fits a key.
fn start_order(services: &[Service], by_name: Option<NameOrder>) -> Box<[u32]> {
    let keys = match by_name {
        Some(NameOrder { mut keys, .. }) => {
            if services.windows(2).any(|w| w[0].order != w[1].order) {
                for key in &mut keys {
                    key.order = services[key.at()].order;
                }
                // Stable: equal orders stay in name order.
                if keys.len() < RADIX_FROM {
                    keys.sort_by_key(|k| k.order);
                } else {
                    radix_sort(&mut keys, ORDER_COLUMNS);
                }
            }
            keys
        }
        None => {
            let mut keys: Vec<Key> = services
                .iter()
                .zip(0u32..)
                .map(|(s, index)| Key::new(s.order, name_prefix(&s.name), index))
                .collect();
            sort_keys(&mut keys, |at| &services[at].name);
            keys
        }
    };
    keys.iter().map(|k| k.index).collect()
}

/// Sorts keys by order, then name, then index: by order and prefix first (radix-sorted past
/// [`RADIX_FROM`]), then the keys that share both are put in order by the whole name, `name_of`
/// their index.
fn sort_keys<'a>(keys: &mut Vec<Key>, name_of: impl Fn(usize) -> &'a str) {
    if keys.len() < RADIX_FROM {
        keys.sort_unstable();
    } else {
        radix_sort(keys, ALL_COLUMNS);
    }
    let mut start = 0;
    while start < keys.len() {
        let first = keys[start];
        let end = keys[start..]
            .iter()
            .position(|k| k.order != first.order || k.prefix() != first.prefix())
            .map_or(keys.len(), |n| start + n);
        if end - start > 1 {
            keys[start..end].sort_unstable_by(|a, b| name_of(a.at()).cmp(name_of(b.at())).then(a.index.cmp(&b.index)));
        }
        start = end;
    }
}

/// Every name a host knows, registered or added by hand, in name order (equal names in the order
/// given): what [`Builder::build`] checks the names with, looks up `only` and `except` in, and
/// lists the known names from; and, when every one of these services is kept, the start order's
/// ranking by name. Names are read through `name_of`, by index.
struct NameOrder {
    /// Order 0 each, sorted.
    keys: Vec<Key>,
    /// The first blank name's index.
    first_blank: Option<usize>,
}

impl NameOrder {
    /// Sorts `count` names; `None` past `u32::MAX` of them.
    fn sort<'a>(count: usize, name_of: impl Fn(usize) -> &'a str) -> Option<Self> {
        u32::try_from(count).ok()?;
        let mut first_blank = None;
        let mut keys: Vec<Key> = (0..count)
            .zip(0u32..)
            .map(|(at, index)| {
                let name = name_of(at);
                if first_blank.is_none() && name.trim().is_empty() {
                    first_blank = Some(at);
                }
                Key::new(0, name_prefix(name), index)
            })
            .collect();
        sort_keys(&mut keys, &name_of);
        Some(NameOrder { keys, first_blank })
    }

    /// The first mistake among the names, in the order they were given: a blank name
    /// (`(name, None, at)`), or a name given before (`(name, Some(first), second)`).
    fn first_mistake<'a>(&self, name_of: impl Fn(usize) -> &'a str) -> Option<(&'a str, Option<usize>, usize)> {
        // Equal names are neighbours, in the order given: the first repeat is the smallest second
        // index of two neighbours.
        let repeat = self
            .keys
            .windows(2)
            .filter(|w| w[0].prefix() == w[1].prefix() && name_of(w[0].at()) == name_of(w[1].at()))
            .map(|w| (w[0].at(), w[1].at()))
            .min_by_key(|&(_, second)| second);
        match (self.first_blank, repeat) {
            (Some(blank), repeat) if repeat.is_none_or(|(_, second)| blank <= second) => {
                Some((name_of(blank), None, blank))
            }
            (_, Some((first, second))) => Some((name_of(second), Some(first), second)),
            _ => None,
        }
    }

    /// Whether `name` is known.
    fn contains<'a>(&self, name: &str, name_of: impl Fn(usize) -> &'a str) -> bool {
        self.keys.binary_search_by(|k| name_of(k.at()).cmp(name)).is_ok()
    }

    /// The names, sorted.
    fn names<'a>(&self, name_of: impl Fn(usize) -> &'a str) -> impl Iterator<Item = &'a str> {
        self.keys.iter().map(move |k| name_of(k.at()))
    }
}

/// A service's place in the name or start order: its order, its name's first 16 bytes (in two halves:
/// 24 bytes a key rather than the 32 a `u128` would align it to; a host of 100 000 services sorts
/// two buffers of them inside its start-up), and its index. Ordered by those fields in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    order: i32,
    prefix_high: u64,
    prefix_low: u64,
    index: u32,
}

impl Key {
    fn new(order: i32, prefix: u128, index: u32) -> Self {
        Key {
            order,
            prefix_high: (prefix >> 64) as u64,
            prefix_low: prefix as u64,
            index,
        }
    }

    fn prefix(&self) -> u128 {
        (u128::from(self.prefix_high) << 64) | u128::from(self.prefix_low)
    }

    /// The service's index.
    fn at(&self) -> usize {
        self.index as usize
    }
}

/// From this many services on, the start order's keys are radix-sorted (below it, the comparison
/// sort is as fast and allocates nothing).
const RADIX_FROM: usize = 1024;

/// The radix sort's columns: a key's prefix is `0..16`, its order `16..20`.
const ORDER_COLUMNS: std::ops::Range<u32> = 16..20;
const ALL_COLUMNS: std::ops::Range<u32> = 0..20;

/// Sorts keys by the bytes in `columns` (order, then prefix, for `0..20`), keeping the input order
/// among equal keys: a least-significant-byte-first radix sort over the bytes in which the keys
/// differ (names made by a program share most of their bytes: `job-0` … `job-99999` differ in five
/// of the twenty).
fn radix_sort(keys: &mut Vec<Key>, columns: std::ops::Range<u32>) {
    // The order's sign bit flipped, so that negative orders come first, above the prefix's bytes.
    fn order(key: &Key) -> u32 {
        u32::from_ne_bytes(key.order.to_ne_bytes()) ^ 0x8000_0000
    }
    // Columns 0..8 are the prefix's low half, least significant byte first, 8..16 its high half,
    // 16..20 the order's.
    fn byte(key: &Key, column: u32) -> usize {
        usize::from(match column {
            0..8 => (key.prefix_low >> (8 * column)) as u8,
            8..16 => (key.prefix_high >> (8 * (column - 8))) as u8,
            _ => (order(key) >> (8 * (column - 16))) as u8,
        })
    }
    // The bits in which some keys differ (set in one key, clear in another), found in one pass:
    // only their bytes need sorting.
    let (mut any, mut all) = ([0u64; 3], [u64::MAX; 3]);
    for key in keys.iter() {
        for (i, word) in [key.prefix_low, key.prefix_high, u64::from(order(key))]
            .into_iter()
            .enumerate()
        {
            any[i] |= word;
            all[i] &= word;
        }
    }
    let varies = |column: u32| {
        let (word, shift) = ((column / 8) as usize, 8 * (column % 8));
        ((any[word] ^ all[word]) >> shift) as u8 != 0
    };
    let mut from = std::mem::take(keys);
    let mut to = from.clone();
    for column in columns.filter(|&c| varies(c)) {
        let mut start = [0usize; 256];
        for key in &from {
            start[byte(key, column)] += 1;
        }
        let mut at = 0;
        for s in start.iter_mut() {
            (*s, at) = (at, at + *s);
        }
        for key in &from {
            let slot = &mut start[byte(key, column)];
            to[*slot] = *key;
            *slot += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    *keys = from;
}

/// A name's first 16 bytes as a big-endian integer (zero-padded): ordered as the names are, up
/// to ties between names that share those bytes.
fn name_prefix(name: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = name.len().min(16);
    bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

/// Resolves every service's injected values, in place; the first one missing (or constructor
/// failing) is the error.
fn resolve(services: &mut [Service], provided: &Provided) -> Result<(), Error> {
    for service in services.iter_mut().filter(|s| s.slot.is_pending()) {
        let placeholder: Box<dyn Slot> = Box::new(crate::slot::hosted(Resolved, crate::slot::Keep));
        let slot = std::mem::replace(&mut service.slot, placeholder);
        service.slot = slot.resolve(provided, &service.name).map_err(|error| match error {
            Unresolved::Missing(Missing { parameter, type_name }) => Error::MissingDependency {
                missing: vec![Unprovided {
                    service: service.name.to_string(),
                    parameter,
                    type_name,
                }],
                provided: provided.type_names(),
            },
            Unresolved::Constructor(source) => Error::Constructor {
                service: service.name.to_string(),
                source,
            },
        })?;
    }
    Ok(())
}

/// Stands in a service's place while it is being resolved (never run).
struct Resolved;

impl crate::HostedService for Resolved {}

/// Services the host will not run are dropped with panics caught (a panicking `Drop` is logged):
/// a failed `build` must not turn into a panic.
struct Dropping(Vec<Service>);

impl Drop for Dropping {
    fn drop(&mut self) {
        self.0.drain(..).for_each(discard);
    }
}

/// Drops a service that will not run; a panic in its `Drop` is logged.
pub(crate) fn discard(service: Service) {
    let name = service.name.clone();
    if let Err(error) = panic::drop_caught(service) {
        tracing::error!(service = %name, %error, "the service panicked while being dropped");
    }
}

/// Checks that every service's injected values were provided; the error lists every service
/// that misses one.
fn check(services: &[Service], provided: &Provided) -> Result<(), Error> {
    let mut missing: Vec<(i32, Unprovided)> = services
        .iter()
        .filter_map(|s| {
            let Missing { parameter, type_name } = s.slot.check(provided).err()?;
            let unprovided = Unprovided {
                service: s.name.to_string(),
                parameter,
                type_name,
            };
            Some((s.order, unprovided))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    // In start order.
    missing.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.service.cmp(&y.service)));
    let missing = missing.into_iter().map(|(_, m)| m).collect();
    Err(Error::MissingDependency {
        missing,
        provided: provided.type_names(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, order: i32) -> Service {
        Service::periodic(
            name.to_owned(),
            crate::Schedule::every(std::time::Duration::from_secs(1)),
            |_: crate::Context, _: crate::Tick| async {},
        )
        .order(order)
    }

    /// The start order is (order, name), names compared as strings: the 16-byte prefixes only
    /// speed it up (long shared prefixes, a name that is a prefix of another, bytes ≥ 0x80, NUL).
    #[test]
    fn the_radix_sort_orders_as_the_comparison_sort() {
        // Orders of both signs, prefixes that share bytes, ties (same order and prefix) in
        // input order.
        let mut keys: Vec<Key> = (0..5000u32)
            .map(|i| {
                let order = [0, -3, 7, i32::MIN, i32::MAX][i as usize % 5];
                let name = format!("job-{}", (i * 7919) % 1300);
                Key::new(order, name_prefix(&name), i)
            })
            .collect();
        let mut expected = keys.clone();
        expected.sort();
        radix_sort(&mut keys, ALL_COLUMNS);
        assert_eq!(keys, expected);
    }

    /// `start_order` gives what sorting `(order, name)` pairs gives, whether it sorts the names
    /// itself or is handed the build's name order.
    fn assert_sorted_by_order_then_name(services: Vec<Service>) {
        let mut expected: Vec<(i32, String)> = services.iter().map(|s| (s.order, s.name.to_string())).collect();
        expected.sort();
        let in_order = |start: Box<[u32]>| -> Vec<(i32, String)> {
            let s = start.iter().map(|&at| &services[at as usize]);
            s.map(|s| (s.order, s.name.to_string())).collect()
        };
        assert_eq!(in_order(start_order(&services, None)), expected);
        let by_name = NameOrder::sort(services.len(), |at| &services[at].name);
        assert_eq!(
            in_order(start_order(&services, by_name)),
            expected,
            "from the name order"
        );
    }

    /// `build` hands its name order to the start order when it keeps every service, and sorts
    /// afresh when it does not.
    #[test]
    fn a_built_host_starts_in_order_whether_or_not_services_are_left_out() {
        let names = ["e", "b", "d", "a", "c", "f"];
        let services = || names.iter().zip([0, 1, 0, 1, -1, 0]).map(|(n, o)| named(n, o));
        let built = |except: &[&str]| {
            let host = Host::builder()
                .discover(false)
                .services(services())
                .except(except.iter().copied())
                .build()
                .expect("builds");
            host.service_names().map(str::to_owned).collect::<Vec<_>>()
        };
        assert_eq!(built(&[]), ["c", "d", "e", "f", "a", "b"]);
        assert_eq!(built(&["d"]), ["c", "e", "f", "a", "b"]);
    }

    /// Past `u32::MAX` names the keys cannot index them: the build says so (exit code 2) before
    /// it reads a name.
    #[test]
    fn more_names_than_a_key_indexes_are_refused() {
        let count = u32::MAX as usize + 1;
        assert!(NameOrder::sort(count, |_| unreachable!("no name is read")).is_none());
        let error = Error::TooManyServices { count };
        assert_eq!(error.exit_code(), std::process::ExitCode::from(2));
        assert!(error.to_string().contains("at most 4294967295"), "{error}");
    }

    /// What `build` reported when it inserted the names into a hash set one by one: the first
    /// blank name, or the first name seen before, whichever comes first.
    fn first_mistake_by_scanning(names: &[String]) -> Option<(String, Option<usize>, usize)> {
        let mut seen = std::collections::HashMap::new();
        for (at, name) in names.iter().enumerate() {
            if name.trim().is_empty() {
                return Some((name.clone(), None, at));
            }
            if let Some(&first) = seen.get(name.as_str()) {
                return Some((name.clone(), Some(first), at));
            }
            seen.insert(name.as_str(), at);
        }
        None
    }

    #[test]
    fn the_name_order_finds_the_mistake_a_scan_in_order_finds() {
        for count in [0, 1, 2, 7, 300, RADIX_FROM + 500] {
            for seed in 0..40u64 {
                // Names from a small pool (repeats likely past a few), sharing long prefixes and
                // differing past 16 bytes, with the odd blank one; some lists with none of either.
                let pool = 1 + (seed * 37) % (2 * count as u64 + 1);
                let mut state = seed;
                let names: Vec<String> = (0..count as u64)
                    .map(|i| {
                        // A linear congruential generator's high bits: repeats in no fixed pattern.
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        let x = (state >> 33) % (pool + 3);
                        match x {
                            0 if seed % 3 == 0 => " ".to_owned(),
                            1 if seed % 5 == 0 => String::new(),
                            _ if seed % 4 == 1 => format!("my_app::jobs::the_long_prefix::job-{i}"),
                            _ => format!("my_app::jobs::the_long_prefix::job-{x}"),
                        }
                    })
                    .collect();
                let name_of = |at: usize| names[at].as_str();
                let order = NameOrder::sort(names.len(), name_of).expect("fits");
                let found = order
                    .first_mistake(name_of)
                    .map(|(name, first, second)| (name.to_owned(), first, second));
                assert_eq!(found, first_mistake_by_scanning(&names), "{count} names, seed {seed}");
                // Every name is found, in sorted order; a name not given is not.
                let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
                sorted.sort();
                assert_eq!(order.names(name_of).collect::<Vec<_>>(), sorted);
                assert!(names.iter().all(|n| order.contains(n, name_of)));
                assert!(!order.contains("my_app::jobs::the_long_prefix::job-x", name_of));
            }
        }
    }

    #[test]
    fn a_large_host_starts_in_the_same_order() {
        // Past `RADIX_FROM`: names that share their first 16 bytes, orders of both signs.
        let services: Vec<Service> = (0..3000)
            .map(|i| {
                let name = format!("my_app::jobs::job-{}", (i * 7919) % 3001);
                named(&name, [0, -1, 2][i % 3])
            })
            .collect();
        assert_sorted_by_order_then_name(services);
    }

    #[test]
    fn start_order_is_by_order_then_name() {
        let names = [
            "my_app::jobs::cleanup_b",
            "my_app::jobs::cleanup_a",
            "my_app::jobs::cleanup",
            "b",
            "a\u{0}",
            "a",
            "",
            "ä",
            "z",
            "my_app::jobs::clean",
            "job-10",
            "job-9",
            "job-1",
        ];
        let services: Vec<Service> = names
            .iter()
            .enumerate()
            .map(|(i, n)| named(n, if i % 3 == 0 { 1 } else { 0 }))
            .collect();
        assert_sorted_by_order_then_name(services);
    }
}
