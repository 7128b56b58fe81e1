//! Singleton periodic jobs across replicas: each tick of a job marked
//! [`singleton`](Schedule::singleton) runs on one replica only, coordinated through a database all
//! replicas share (`host::postgres::Postgres`, cargo feature `postgres`).
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # async fn demo() -> Result<(), host::Error> {
//! use host::{CatchUp, Host, Schedule, Service, Tick};
//! use std::time::Duration;
//!
//! let invoices = Schedule::every(Duration::from_secs(24 * 60 * 60)).singleton().catch_up(CatchUp::Once);
//! Host::builder()
//!     .coordination(host::postgres::Postgres::new("postgresql://app@db/app").schema("host"))
//!     .service(Service::periodic("invoices", invoices, |_ctx, tick: Tick| async move {
//!         // guard your own writes with the fence: `UPDATE … SET fence = $1 WHERE fence < $1`
//!         tracing::info!(fence = tick.fence(), "billing");
//!     }))
//!     .build()?
//!     .run()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # How a tick is claimed
//!
//! A singleton job's ticks are named by their scheduled time on the **database's clock**, in
//! milliseconds since the Unix epoch: with `every = P`, tick `n` is due at `n × P` (so
//! `every = "1h"` runs on the hour, whatever time each replica started); with `cron`, at each
//! occurrence of the expression in its zone. Every replica wakes at its estimate of the next one
//! (the database clock read in each claim's answer, NTP-style: a replica's own wall clock is never
//! read) and sends **one atomic statement** that claims the job's row only if the tick is due on
//! the database clock (for `every` the database computes it: `floor(now_ms / P) × P`), is newer
//! than the stored one, and no lease is held:
//!
//! - one replica's statement updates the row and gets back a **fencing number** (it increases with
//!   every claim of the job, by any replica), exposed as [`Tick::fence`](crate::Tick::fence), and the
//!   tick's scheduled time, [`Tick::slot`](crate::Tick::slot);
//! - the others update nothing and skip the tick.
//!
//! The claim takes a **lease** ([`Schedule::lease`], default 30 s) that the host renews every
//! third of it while the run lasts. A run whose lease is lost, because another replica took the
//! job over or because the lease could not be renewed before it ran out, has its token
//! ([`Context::cancelled`](crate::Context::cancelled)) cancelled at once, and a `WARN` line says
//! so. The lease is released when the run ends (recording the tick as completed when the run
//! succeeded) and at shutdown.
//!
//! # The guarantee
//!
//! | situation | what happens |
//! |---|---|
//! | every replica healthy | each tick runs **exactly once**, on one replica |
//! | replica clocks disagree | no effect: tick numbers and leases use the database clock only |
//! | a run longer than the period | the next ticks are skipped while the lease is held (runs never overlap, across replicas too) |
//! | the holder is killed mid-run | its tick is **not run again** (at most once); the lease expires after at most the lease time, and the first tick due after that runs on another replica |
//! | the holder is stalled (GC pause, network split) past its lease | another replica may claim a later tick; the stalled run's renewal fails and its token is cancelled; its writes carry an older fence, which your writes can reject |
//! | the database is unreachable | ticks are **skipped**, never run unguarded; each is logged at `WARN` and counted as a failed run; [`ServiceStatus::coordination`](crate::ServiceStatus::coordination) reads [`CoordinationState::Unavailable`]; reconnection backs off from 100 ms to 5 s; runs resume at the first tick after the database is back |
//! | every replica was down over a tick | skipped, unless [`CatchUp::Once`]: then the first replica back runs the current tick at once, one run for all the ticks missed since the last completed one |
//!
//! The job's row is keyed by the service name: replicas of one app share it, and two different
//! apps sharing a database should use a schema or table each (`Postgres::schema`, `Postgres::table`).
//!
//! So the guarantee per tick is **at most once**: a tick never runs twice, whatever the replicas'
//! clocks or the job's length, and a tick runs exactly once when some replica is up and holds or
//! can reach the database at its boundary. A run whose holder died is not retried (its work may be
//! half done: make it idempotent or check [`Tick::fence`](crate::Tick::fence)).
//!
//! # Failure policy
//!
//! A tick skipped because the database is unreachable counts as a failed run. By default
//! (no `max_failures`) the schedule goes on and the host keeps running through any outage; with
//! `max_failures = N`, N skipped or failed ticks in a row fail the service, and its failure policy
//! applies (under the default `stop-host` the host stops and exits 1).

mod in_process;
#[cfg(feature = "postgres")]
pub mod postgres;

pub use in_process::InProcess;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use crate::clock::deadline;
use crate::context::Context;
use crate::error::{BoxError, Error, Failure};
use crate::schedule::{MissedTicks, Schedule, ScheduleError, Trigger};

/// The default lease of a singleton run: renewed every third of it while the run lasts.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Woken this long after its estimate of a tick's boundary on the database clock, so that the
/// estimate's error (half a round trip) rarely makes a claim early.
const MARGIN: Duration = Duration::from_millis(2);

/// How a set of replicas agrees on which one runs each tick of a [singleton](Schedule::singleton)
/// job. Configure it with [`Builder::coordination`](crate::Builder::coordination).
///
/// The backend that ships is PostgreSQL: `host::postgres::Postgres`
/// (cargo feature `postgres`) converts into it.
#[derive(Clone)]
pub struct Coordination {
    backend: Arc<dyn Backend>,
    /// The database clock as this host estimates it, shared by all its singleton jobs.
    clock: Arc<DbClock>,
}

impl Coordination {
    pub(crate) fn new(backend: Arc<dyn Backend>) -> Self {
        Coordination {
            backend,
            clock: Arc::new(DbClock::new()),
        }
    }
}

/// The database clock, estimated from the claims' answers the way NTP does: a reading taken
/// between sending a statement and receiving its answer is placed at the midpoint, with half the
/// round trip as its uncertainty, and the most certain reading wins (aged by 100 ppm, a generous
/// bound on the drift between two machines' clocks). Statements queued behind others (1 000 jobs
/// firing on the same second share one connection) have long round trips and so do not spoil it.
///
/// Only *when* to send a claim depends on it; *which* tick a claim takes is decided by the
/// database, so an estimate that is off makes a claim late or costs one more round trip, never
/// a duplicate.
pub(crate) struct DbClock {
    base: Instant,
    best: std::sync::Mutex<Option<Reading>>,
}

#[derive(Clone, Copy)]
struct Reading {
    /// Database clock (µs since the Unix epoch) minus local µs since `base`.
    offset_us: i64,
    uncertainty: Duration,
    taken: Instant,
}

impl DbClock {
    fn new() -> Self {
        DbClock {
            base: Instant::now(),
            best: std::sync::Mutex::new(None),
        }
    }

    fn local_us(&self, at: Instant) -> i64 {
        i64::try_from(at.saturating_duration_since(self.base).as_micros()).unwrap_or(i64::MAX)
    }

    fn best(&self) -> Option<Reading> {
        *self.best.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes this reading whatever the best one was.
    fn replace(&self, sent: Instant, received: Instant, db_ms: i64) {
        *self.best.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.observe(sent, received, db_ms);
    }

    /// A reading of the database clock, `db_ms`, taken between `sent` and `received`.
    fn observe(&self, sent: Instant, received: Instant, db_ms: i64) {
        let half = received.saturating_duration_since(sent) / 2;
        let reading = Reading {
            offset_us: db_ms
                .saturating_mul(1000)
                .saturating_sub(self.local_us(deadline(sent, half))),
            uncertainty: half,
            taken: received,
        };
        let mut best = self.best.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let keep_old = best.is_some_and(|old| {
            let aged = old
                .uncertainty
                .saturating_add(received.saturating_duration_since(old.taken) / 10_000);
            aged < reading.uncertainty
        });
        if !keep_old {
            *best = Some(reading);
        }
    }

    /// The database clock (ms since the epoch) at `at`.
    fn db_ms(&self, at: Instant) -> Option<i64> {
        let best = self.best()?;
        Some(self.local_us(at).saturating_add(best.offset_us).div_euclid(1000))
    }

    /// The local instant at which the database clock reads `db_ms` (now, if that has passed or
    /// there is no reading yet).
    fn instant(&self, db_ms: i64) -> Instant {
        let Some(best) = self.best() else {
            return Instant::now();
        };
        let local = db_ms.saturating_mul(1000).saturating_sub(best.offset_us);
        deadline(self.base, Duration::from_micros(u64::try_from(local).unwrap_or(0)))
    }
}

impl fmt::Debug for Coordination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coordination")
            .field("backend", &self.backend.describe())
            .finish()
    }
}

/// What a [singleton](Schedule::singleton) job does about ticks that fell due while every replica
/// was down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CatchUp {
    /// They are skipped; the job runs again at the next tick (default).
    #[default]
    Skip,
    /// The first replica to start runs the current tick at once if it was never claimed: one run
    /// for all the ticks missed since the last completed one (like anacron).
    Once,
}

/// Whether a singleton job reached its coordination backend on its last attempt (in
/// [`ServiceStatus::coordination`](crate::ServiceStatus::coordination)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CoordinationState {
    /// The last claim reached the backend.
    Available = 1,
    /// The last claim could not reach the backend: ticks are skipped until it is back.
    Unavailable = 2,
}

impl CoordinationState {
    pub(crate) fn decode(raw: u8) -> Option<Self> {
        match raw {
            1 => Some(CoordinationState::Available),
            2 => Some(CoordinationState::Unavailable),
            _ => None,
        }
    }
}

/// Why a singleton tick could not be claimed, or a lease renewed or released. Each names the
/// service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoordinationError {
    /// The backend could not be reached or answered with an error.
    #[error("service `{service}`: coordination backend unavailable: {source}")]
    Unavailable {
        /// The singleton job.
        service: String,
        /// What the backend said.
        #[source]
        source: BoxError,
    },
    /// The backend did not answer in time.
    #[error("service `{service}`: the coordination backend did not answer within {}", humantime::format_duration(*.after))]
    Timeout {
        /// The singleton job.
        service: String,
        /// How long the host waited.
        after: Duration,
    },
    /// No coordination is configured (only possible for a host built around the builder's check).
    #[error("service `{service}` is a singleton but the host has no coordination")]
    NotConfigured {
        /// The singleton job.
        service: String,
    },
}

/// A singleton job's options, kept in its [`Schedule`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Singleton {
    /// Set by [`Schedule::singleton`]; `catch_up`/`lease` alone leave it off (a validation error).
    on: bool,
    catch_up: CatchUp,
    lease: Duration,
}

impl Default for Singleton {
    fn default() -> Self {
        Singleton {
            on: false,
            catch_up: CatchUp::Skip,
            lease: DEFAULT_LEASE,
        }
    }
}

/// The singleton options of a schedule.
impl Schedule {
    /// Runs each tick on one replica only, across every host sharing the
    /// [coordination](crate::Builder::coordination) (see [`coordination`](crate::coordination) for
    /// the guarantee). Needs an [`every`](Schedule::every) or `cron` schedule, whose ticks are then
    /// scheduled times on the database clock (`every`: `n × period` since the Unix epoch).
    pub fn singleton(mut self) -> Self {
        self.opts_mut().singleton.get_or_insert_default().on = true;
        self
    }

    /// What a [singleton](Self::singleton) job does with ticks missed while every replica was
    /// down (default [`CatchUp::Skip`]).
    pub fn catch_up(mut self, policy: CatchUp) -> Self {
        self.opts_mut().singleton.get_or_insert_default().catch_up = policy;
        self
    }

    /// How long a [singleton](Self::singleton) run's claim lasts without renewal (default
    /// [`DEFAULT_LEASE`], 30 s): the host renews it every third of it while the run lasts, and a
    /// replica that dies mid-run blocks the job for at most this long.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.opts_mut().singleton.get_or_insert_default().lease = lease;
        self
    }

    /// Whether this is a [singleton](Self::singleton) job.
    pub fn is_singleton(&self) -> bool {
        self.opts().singleton.as_ref().is_some_and(|s| s.on)
    }
}

/// Checks a schedule's singleton options (from [`Schedule::validate`]).
pub(crate) fn validate(schedule: &Schedule) -> Result<(), ScheduleError> {
    let Some(singleton) = &schedule.opts().singleton else {
        return Ok(());
    };
    if !singleton.on {
        return Err(ScheduleError::Singleton(
            "`catch_up` and `lease` only apply to singleton jobs: add `singleton`",
        ));
    }
    if let Trigger::FixedDelay(_) = &schedule.trigger {
        return Err(ScheduleError::Singleton(
            "a singleton job needs `every` or `cron`: its ticks are scheduled times on the database clock, and \
             `fixed_delay` has none; use `every`",
        ));
    }
    if !schedule.opts().initial_delay.is_zero() {
        return Err(ScheduleError::Singleton(
            "`initial_delay` does not apply to a singleton job: its ticks are on the database clock's grid \
             (multiples of the period since the Unix epoch); remove it",
        ));
    }
    if schedule.opts().missed != MissedTicks::Skip {
        return Err(ScheduleError::Singleton(
            "a singleton job skips the ticks missed while its previous run lasts; remove `missed_ticks`, and use \
             `catch_up = \"once\"` for ticks missed while every replica was down",
        ));
    }
    if singleton.lease < Duration::from_millis(30) {
        return Err(ScheduleError::Singleton(
            "the lease of a singleton job must be at least 30 ms (it is renewed every third of it)",
        ));
    }
    Ok(())
}

/// At build time: a singleton job needs coordination, and the coordination a valid configuration.
pub(crate) fn check<'a>(
    coordination: Option<&Coordination>,
    mut services: impl Iterator<Item = (&'a str, Option<&'a Schedule>)>,
) -> Result<(), Error> {
    if coordination.is_none() {
        if let Some((name, _)) = services.find(|(_, s)| s.is_some_and(Schedule::is_singleton)) {
            return Err(Error::InvalidSchedule {
                service: name.to_owned(),
                source: ScheduleError::SingletonWithoutCoordination,
            });
        }
    }
    if let Some(coordination) = coordination {
        coordination
            .backend
            .check()
            .map_err(|reason| Error::InvalidCoordination { reason })?;
    }
    Ok(())
}

/// A boxed future: the backend is a trait object (one per host, chosen at run time).
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a backend's claim statement answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClaimRow {
    /// The database clock, in milliseconds since the Unix epoch, when the statement ran.
    pub(crate) now_ms: i64,
    /// The tick asked about: its scheduled time in ms since the Unix epoch (`every`: the one due
    /// at `now_ms`, `floor(now_ms / period_ms) × period_ms`).
    pub(crate) tick: i64,
    /// Set when this call claimed `tick`: the job's new fencing number.
    pub(crate) fence: Option<i64>,
    /// The last completed tick stored before the claim (catch-up's log line).
    pub(crate) completed: Option<i64>,
}

/// A claim request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClaimRequest<'a> {
    pub(crate) job: &'a str,
    /// `every`: the period; the backend computes the tick due now, `floor(now / period) × period`,
    /// and claims it if it is at least `key`. `0` (`cron`): the tick is `key`, claimed only if it
    /// is due on the backend's clock. `key = i64::MAX` only reads the clock.
    pub(crate) period_ms: i64,
    pub(crate) key: i64,
    pub(crate) lease: Duration,
}

/// A coordination backend: one atomic claim, renewal and release, each one round trip.
pub(crate) trait Backend: Send + Sync + 'static {
    /// What it is, for `Debug`.
    fn describe(&self) -> String;
    /// Checks the configuration at build time.
    fn check(&self) -> Result<(), String>;
    /// Claims the tick of `request` (see [`ClaimRequest`]) if it is due on the backend's clock,
    /// newer than the last claimed one, and no lease is held.
    fn claim<'a>(&'a self, request: ClaimRequest<'a>) -> BoxFuture<'a, Result<ClaimRow, BoxError>>;
    /// Extends the lease of claim `fence`; `false`: the claim is no longer the job's.
    fn renew<'a>(&'a self, job: &'a str, fence: i64, lease: Duration) -> BoxFuture<'a, Result<bool, BoxError>>;
    /// Ends the lease of claim `fence`, recording its tick as completed when `completed`.
    fn release<'a>(&'a self, job: &'a str, fence: i64, completed: bool) -> BoxFuture<'a, Result<(), BoxError>>;
}

/// The claim a run holds, as its [`Tick`](crate::Tick) shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Claimed {
    pub(crate) fence: u64,
    pub(crate) tick: i64,
}

/// The driver of the periodic loop of a singleton job; `None` for every other job.
pub(crate) fn driver(schedule: &Schedule, ctx: &Context) -> Option<Driver> {
    let singleton = schedule.opts().singleton.filter(|s| s.on)?;
    let coordination = ctx.host().coordination();
    // `validate` accepts `every` and `cron` only; anything else gets no backend, so every claim
    // fails and no tick ever runs unguarded.
    let (grid, backend) = match &schedule.trigger {
        Trigger::Every(period) => (
            // Validated: at least 1 ms.
            Grid::Every(i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1)),
            coordination.map(|c| c.backend.clone()),
        ),
        #[cfg(feature = "cron")]
        Trigger::Cron(spec) => (Grid::Cron(spec.clone()), coordination.map(|c| c.backend.clone())),
        Trigger::FixedDelay(_) => (Grid::Every(1000), None),
    };
    Some(Driver {
        backend,
        clock: coordination.map_or_else(|| Arc::new(DbClock::new()), |c| c.clock.clone()),
        ctx: ctx.clone(),
        grid,
        lease: singleton.lease,
        catch_up: singleton.catch_up == CatchUp::Once,
        next: None,
        next_due: Instant::now(),
        current: None,
    })
}

/// Where a singleton job's ticks fall, in milliseconds of the database clock since the Unix epoch.
enum Grid {
    /// `n × period`.
    Every(i64),
    /// The cron expression's occurrences in its zone.
    #[cfg(feature = "cron")]
    Cron(Box<crate::schedule::cron::CronSpec>),
}

impl Grid {
    /// The last scheduled time at or before `db_ms` (the tick due then).
    fn at_or_before(&self, db_ms: i64) -> Option<i64> {
        match self {
            Grid::Every(period) => Some(db_ms.div_euclid(*period).saturating_mul(*period)),
            #[cfg(feature = "cron")]
            Grid::Cron(spec) => spec
                .at_or_before(jiff::Timestamp::from_millisecond(db_ms).ok()?)
                .map(|z| z.timestamp().as_millisecond()),
        }
    }

    /// The first scheduled time after `key`.
    fn after(&self, key: i64) -> Option<i64> {
        match self {
            Grid::Every(period) => Some(key.saturating_add(*period)),
            #[cfg(feature = "cron")]
            Grid::Cron(spec) => spec
                .next_after(jiff::Timestamp::from_millisecond(key).ok()?)
                .map(|z| z.timestamp().as_millisecond()),
        }
    }

    /// The period the database numbers ticks by itself with (`every`); `0`: the claim names its
    /// tick (`cron`).
    fn period_ms(&self) -> i64 {
        match self {
            Grid::Every(period) => *period,
            #[cfg(feature = "cron")]
            Grid::Cron(_) => 0,
        }
    }

    /// Ticks strictly between `from` and `to` (capped: only for a log line).
    fn between(&self, from: i64, to: i64) -> u64 {
        let mut count = 0u64;
        let mut at = from;
        while let Some(next) = self.after(at).filter(|n| *n < to) {
            count += 1;
            at = next;
            if count >= 100_000 {
                break;
            }
        }
        count
    }
}

/// Where a singleton job is on the database clock's grid.
///
/// Invariants: the driver never decides alone that a tick is its own (only a claim the backend
/// answered with a fence does); the clock estimate ([`DbClock`]) only decides when to ask, so an
/// estimate that is off costs an extra round trip or a late run, never a duplicate. A tick is
/// named by its scheduled time on the database clock (ms since the Unix epoch), the same on every
/// replica.
pub(crate) struct Driver {
    backend: Option<Arc<dyn Backend>>,
    ctx: Context,
    grid: Grid,
    lease: Duration,
    /// Still to run the tick due at start, if it was never claimed ([`CatchUp::Once`]).
    catch_up: bool,
    /// The first tick this replica may still claim; `None`: read the database clock first.
    next: Option<i64>,
    clock: Arc<DbClock>,
    next_due: Instant,
    /// The lease of the run under way, claimed by the periodic loop: here rather than in the
    /// loop's own state, which every periodic task carries (most jobs are not singletons).
    pub(crate) current: Option<Lease>,
}

impl Driver {
    /// When to try the next claim.
    pub(crate) fn next_due(&self) -> Instant {
        self.next_due
    }

    /// Waits for tick `key` next (none: the schedule has no further runs; checked again in a day).
    fn wait_for(&mut self, key: Option<i64>) {
        self.next = key.or(self.next);
        self.next_due = match key {
            Some(key) => deadline(self.clock.instant(key), MARGIN),
            None => deadline(Instant::now(), Duration::from_secs(24 * 60 * 60)),
        };
    }

    /// The tick due now, by the clock estimate.
    fn due_now(&self) -> Option<i64> {
        self.grid.at_or_before(self.clock.db_ms(Instant::now())?)
    }

    /// Skips every tick due by now: waits for the first one after it.
    fn skip_to_next(&mut self) {
        if let Some(now) = self.due_now() {
            let next = self.grid.after(now);
            self.wait_for(next);
        }
    }

    /// After a run: releases its lease, and skips the ticks whose boundary passed while it ran
    /// (the others skipped them too: the lease was held), as [`MissedTicks::Skip`] does.
    pub(crate) async fn finish(&mut self, lease: Lease, completed: bool) {
        lease.release(completed).await;
        if self.next_due < Instant::now() {
            self.skip_to_next();
        }
    }

    /// Tries to claim the tick due now. `Ok(None)`: not this replica's tick (or not due yet, or
    /// the first clock reading, or shutdown began); `Err`: the backend is unreachable and the tick
    /// is skipped.
    pub(crate) async fn claim(&mut self) -> Result<Option<Lease>, Failure> {
        let name = self.ctx.name().to_owned();
        let Some(backend) = self.backend.clone() else {
            self.next_due = deadline(Instant::now(), Duration::from_secs(1));
            return Err(Failure::Error(Box::new(CoordinationError::NotConfigured {
                service: name,
            })));
        };
        // `every`: the database numbers the tick due now and takes it if it is at least `next`;
        // `cron`: the claim names the tick (the latest due by the estimate, at least `next`), and
        // the database takes it only if it is due on its clock.
        let key = match (self.next, self.grid.period_ms()) {
            (None, _) => i64::MAX, // only read the clock
            (Some(next), 0) => self.due_now().map_or(next, |due| due.max(next)),
            (Some(next), _) => next,
        };
        let request = ClaimRequest {
            job: &name,
            period_ms: self.grid.period_ms(),
            key,
            lease: self.lease,
        };
        let limit = query_timeout(self.lease);
        let sent = Instant::now();
        // Not dropped at shutdown: a claim the database made must be released (below), or the job
        // would stay blocked for the lease; the timeout bounds the wait.
        let answer = tokio::time::timeout(limit, backend.claim(request)).await;
        let received = Instant::now();
        let status = self.ctx.status();
        let row = match answer {
            Ok(Ok(row)) => row,
            failed => {
                status.set_coordination(CoordinationState::Unavailable);
                let error = match failed {
                    Ok(Err(source)) => CoordinationError::Unavailable { service: name, source },
                    _ => CoordinationError::Timeout {
                        service: name,
                        after: limit,
                    },
                };
                // Skip the tick due now by the clock estimate; without one, retry in a second.
                if self.clock.db_ms(received).is_some() {
                    self.skip_to_next();
                } else {
                    self.next_due = deadline(received, Duration::from_secs(1));
                }
                return Err(Failure::Error(Box::new(error)));
            }
        };
        status.set_coordination(CoordinationState::Available);
        self.clock.observe(sent, received, row.now_ms);
        let Some(next) = self.next else {
            // The first reading: catch up on the tick due now, or wait for the next one.
            let due = self.grid.at_or_before(row.now_ms);
            if self.catch_up && due.is_some() {
                self.next = due;
                self.next_due = received;
            } else {
                let next = due.and_then(|d| self.grid.after(d));
                self.wait_for(next);
            }
            return Ok(None);
        };
        let catching_up = std::mem::take(&mut self.catch_up);
        let Some(fence) = row.fence else {
            if row.tick < next || row.tick > row.now_ms {
                // Early: the estimate put the boundary before the database's clock did. This
                // reading proves the estimate wrong (the database clock stepped back, say): take it,
                // so that the next attempt is not early again at once.
                self.clock.replace(sent, received, row.now_ms);
                self.wait_for(Some(next));
            } else {
                // Run by another replica, or its lease is still held: skip it.
                tracing::debug!(tick = row.tick, "tick run by another replica");
                let after = self.grid.after(row.tick);
                self.wait_for(after);
            }
            return Ok(None);
        };
        let after = self.grid.after(row.tick);
        self.wait_for(after);
        if self.ctx.shared.is_stopped() {
            // Shutdown began while claiming: no run starts now.
            let _ = tokio::time::timeout(limit, backend.release(&name, fence, false)).await;
            return Ok(None);
        }
        if catching_up {
            let missed = row.completed.map_or(0, |done| self.grid.between(done, row.tick));
            tracing::info!(
                tick = row.tick,
                missed,
                "catching up: one run for the ticks missed while every replica was down"
            );
        }
        tracing::debug!(tick = row.tick, fence, "tick claimed");
        Ok(Some(Lease::start(backend, &self.ctx, fence, row.tick, self.lease)))
    }
}

/// How long a claim, renewal or release may take: half the lease, at most 5 s.
fn query_timeout(lease: Duration) -> Duration {
    (lease / 2).min(Duration::from_secs(5))
}

/// A claimed tick, held while its run lasts: renewed from a task of its own, released at the end.
pub(crate) struct Lease {
    claimed: Claimed,
    fence: i64,
    ctx: Context,
    backend: Arc<dyn Backend>,
    lease: Duration,
    renewal: tokio::task::JoinHandle<()>,
}

impl Lease {
    fn start(backend: Arc<dyn Backend>, ctx: &Context, fence: i64, tick: i64, lease: Duration) -> Lease {
        let run = ctx.for_run();
        let renewal =
            tokio::spawn(renew(backend.clone(), run.clone(), fence, lease).instrument(tracing::Span::current()));
        Lease {
            claimed: Claimed {
                fence: u64::try_from(fence).unwrap_or(0),
                tick,
            },
            fence,
            ctx: run,
            backend,
            lease,
            renewal,
        }
    }

    /// The claim, for the run's [`Tick`](crate::Tick).
    pub(crate) fn claimed(&self) -> Claimed {
        self.claimed
    }

    /// The run's context: its token is cancelled when the lease is lost.
    pub(crate) fn ctx(&self) -> &Context {
        &self.ctx
    }

    /// Ends the lease: stops renewing it and releases it, recording the tick as completed when the
    /// run succeeded. A release that fails is logged; the lease then runs out by itself.
    pub(crate) async fn release(self, completed: bool) {
        self.renewal.abort();
        let limit = query_timeout(self.lease);
        let name = self.ctx.name();
        match tokio::time::timeout(limit, self.backend.release(name, self.fence, completed)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(fence = self.fence, %error, "could not release the lease; it expires by itself");
            }
            Err(_) => tracing::warn!(
                fence = self.fence,
                "releasing the lease timed out; it expires by itself"
            ),
        }
    }
}

impl Drop for Lease {
    /// A run dropped mid-way (aborted at the shutdown timeout) stops renewing; its lease runs out.
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

/// Renews the lease every third of it; cancels the run's token when the lease is lost: taken over,
/// or not renewed before it ran out (by this replica's clock, counted from the last renewal sent).
async fn renew(backend: Arc<dyn Backend>, run: Context, fence: i64, lease: Duration) {
    let every = lease / 3;
    let limit = query_timeout(lease);
    let mut valid_until = deadline(Instant::now(), lease);
    loop {
        tokio::time::sleep(every).await;
        let sent = Instant::now();
        match tokio::time::timeout(limit, backend.renew(run.name(), fence, lease)).await {
            Ok(Ok(true)) => valid_until = deadline(sent, lease),
            Ok(Ok(false)) => {
                tracing::warn!(
                    fence,
                    "lease lost: another replica took the job over; the run is cancelled"
                );
                run.token().cancel();
                return;
            }
            failed => {
                let error = match failed {
                    Ok(Err(error)) => error.to_string(),
                    _ => format!("no answer within {}", humantime::format_duration(limit)),
                };
                // The next attempt would come after the lease may have run out: it is lost now.
                if deadline(Instant::now(), every) >= valid_until {
                    tracing::warn!(fence, %error, "lease lost: it could not be renewed before it ran out; the run is cancelled");
                    run.token().cancel();
                    return;
                }
                tracing::warn!(fence, %error, "could not renew the lease; retrying");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A reading is placed at the midpoint of its round trip; `instant` inverts `db_ms`.
    #[tokio::test(start_paused = true)]
    async fn a_reading_is_placed_at_the_midpoint_of_its_round_trip() {
        let clock = DbClock::new();
        assert_eq!(clock.db_ms(Instant::now()), None);
        let sent = Instant::now();
        tokio::time::advance(10 * MS).await;
        // The database read 1_000_000 ms somewhere in these 10 ms: taken as at 5 ms.
        clock.observe(sent, Instant::now(), 1_000_000);
        assert_eq!(clock.db_ms(sent + 5 * MS), Some(1_000_000));
        assert_eq!(clock.db_ms(sent + 1005 * MS), Some(1_001_000));
        assert_eq!(clock.instant(1_001_000), sent + 1005 * MS);
        // A time that has passed maps to an instant in the past; `deadline` saturates at the base.
        assert!(clock.instant(0) <= Instant::now());
    }

    /// The most certain reading wins: a queued claim (long round trip) does not replace a quick
    /// one, until the quick one has aged by more than the difference (100 ppm).
    #[tokio::test(start_paused = true)]
    async fn the_most_certain_reading_wins_and_ages() {
        let clock = DbClock::new();
        let t0 = Instant::now();
        tokio::time::advance(2 * MS).await;
        clock.observe(t0, Instant::now(), 5_000); // ±1 ms, at t0 + 1 ms
        let t1 = Instant::now();
        tokio::time::advance(40 * MS).await;
        clock.observe(t1, Instant::now(), 9_999_999); // ±20 ms: ignored
        assert_eq!(clock.db_ms(t0 + MS), Some(5_000));
        // 200 s later the first reading's uncertainty has grown to 1 ms + 20 ms: the next reading
        // with ±20 ms replaces it.
        tokio::time::advance(Duration::from_secs(200)).await;
        let t2 = Instant::now();
        tokio::time::advance(40 * MS).await;
        clock.observe(t2, Instant::now(), 42_000);
        assert_eq!(clock.db_ms(t2 + 20 * MS), Some(42_000));
    }
}
