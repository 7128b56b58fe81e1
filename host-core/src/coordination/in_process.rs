//! [`InProcess`]: coordination between hosts of one process, with the PostgreSQL backend's exact
//! semantics, on tokio's clock: for tests of singleton jobs (deterministic under a paused clock)
//! without a database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::{Backend, BoxFuture, ClaimRequest, ClaimRow, Coordination};
use crate::error::BoxError;

/// Coordinates the hosts of one process that share it (clone it into each builder), the way
/// `host::postgres::Postgres` coordinates processes: same claim, lease and fence rules,
/// with tokio's clock as the "database clock". For tests of singleton jobs, under
/// `#[tokio::test(start_paused = true)]` too.
///
/// ```
/// use host::coordination::InProcess;
/// use host::{Host, Schedule, Service};
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), host::Error> {
/// let shared = InProcess::starting_at(1_700_000_000_000);
/// let replica = |shared: InProcess| {
///     let job = Service::periodic("sync", Schedule::every(Duration::from_secs(1)).singleton(), |_, _| async {});
///     Host::builder().discover(false).coordination(shared).service(job).build()
/// };
/// let (a, b) = (replica(shared.clone())?, replica(shared.clone())?);
/// # let _ = (a, b);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct InProcess {
    inner: Arc<Mutex<Table>>,
}

struct Table {
    /// The "database clock" at `t0`, in ms since the Unix epoch.
    epoch_ms: i64,
    t0: Instant,
    rows: HashMap<String, Row>,
    available: bool,
    round_trips: u64,
}

struct Row {
    /// The last claimed tick's scheduled time (ms since the epoch).
    tick: i64,
    completed: Option<i64>,
    fence: i64,
    /// `None`: released.
    lease_until: Option<i64>,
}

impl Default for InProcess {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcess {
    /// Its clock starts at the system time, and advances with tokio's clock.
    pub fn new() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self::starting_at(now)
    }

    /// Its clock reads `unix_ms` (milliseconds since the Unix epoch) now, and advances with
    /// tokio's clock: pick a multiple of the period to start on a tick's boundary.
    pub fn starting_at(unix_ms: i64) -> Self {
        InProcess {
            inner: Arc::new(Mutex::new(Table {
                epoch_ms: unix_ms,
                t0: Instant::now(),
                rows: HashMap::new(),
                available: true,
                round_trips: 0,
            })),
        }
    }

    /// Makes every later claim, renewal and release fail (`false`) or succeed again (`true`), as
    /// an unreachable database would.
    pub fn set_available(&self, available: bool) {
        self.table().available = available;
    }

    /// Claims, renewals and releases answered so far: the round trips a database would have made.
    pub fn round_trips(&self) -> u64 {
        self.table().round_trips
    }

    /// The fencing number of `job`'s last claim, if it was ever claimed.
    pub fn fence(&self, job: &str) -> Option<u64> {
        self.table().rows.get(job).and_then(|r| u64::try_from(r.fence).ok())
    }

    /// Claims `job`'s row as another replica would once the holder's lease had run out (the holder
    /// stalled or was cut off): a new fence, a fresh lease. The holder's next renewal fails and its
    /// run is cancelled. Returns the new fence (`None`: the job was never claimed). For tests of
    /// what a job does when it loses its lease.
    pub fn take_over(&self, job: &str) -> Option<u64> {
        let mut table = self.table();
        let since = i64::try_from(table.t0.elapsed().as_millis()).unwrap_or(i64::MAX);
        let now = table.epoch_ms.saturating_add(since);
        let row = table.rows.get_mut(job)?;
        row.fence = row.fence.saturating_add(1);
        row.lease_until = Some(now.saturating_add(millis(super::DEFAULT_LEASE)));
        u64::try_from(row.fence).ok()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One "statement": fails when unavailable, otherwise runs `f` on the table at its clock.
    fn statement<T>(&self, f: impl FnOnce(&mut Table, i64) -> T) -> Result<T, BoxError> {
        let mut table = self.table();
        if !table.available {
            return Err("the in-process coordination is unavailable (set_available(false))".into());
        }
        table.round_trips = table.round_trips.saturating_add(1);
        let since = i64::try_from(table.t0.elapsed().as_millis()).unwrap_or(i64::MAX);
        let now = table.epoch_ms.saturating_add(since);
        Ok(f(&mut table, now))
    }
}

impl From<InProcess> for Coordination {
    fn from(shared: InProcess) -> Self {
        Coordination::new(Arc::new(shared))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Backend for InProcess {
    fn describe(&self) -> String {
        "in-process".to_owned()
    }

    fn check(&self) -> Result<(), String> {
        Ok(())
    }

    fn claim<'a>(&'a self, request: ClaimRequest<'a>) -> BoxFuture<'a, Result<ClaimRow, BoxError>> {
        let answer = self.statement(|table, now_ms| {
            let tick = match request.period_ms {
                0 => request.key,
                period => now_ms.div_euclid(period).saturating_mul(period),
            };
            let lease_until = Some(now_ms.saturating_add(millis(request.lease)));
            let mut fence = None;
            let mut completed = None;
            if tick >= request.key && tick <= now_ms {
                match table.rows.get_mut(request.job) {
                    None => {
                        table.rows.insert(
                            request.job.to_owned(),
                            Row {
                                tick,
                                completed: None,
                                fence: 1,
                                lease_until,
                            },
                        );
                        fence = Some(1);
                    }
                    Some(row) if row.tick < tick && row.lease_until.is_none_or(|until| until < now_ms) => {
                        row.tick = tick;
                        row.fence = row.fence.saturating_add(1);
                        row.lease_until = lease_until;
                        fence = Some(row.fence);
                        completed = row.completed;
                    }
                    Some(_) => {}
                }
            }
            ClaimRow {
                now_ms,
                tick,
                fence,
                completed,
            }
        });
        Box::pin(std::future::ready(answer))
    }

    fn renew<'a>(&'a self, job: &'a str, fence: i64, lease: Duration) -> BoxFuture<'a, Result<bool, BoxError>> {
        let answer = self.statement(|table, now_ms| match table.rows.get_mut(job) {
            Some(row) if row.fence == fence && row.lease_until.is_some() => {
                row.lease_until = Some(now_ms.saturating_add(millis(lease)));
                true
            }
            _ => false,
        });
        Box::pin(std::future::ready(answer))
    }

    fn release<'a>(&'a self, job: &'a str, fence: i64, completed: bool) -> BoxFuture<'a, Result<(), BoxError>> {
        let answer = self.statement(|table, _| {
            if let Some(row) = table.rows.get_mut(job).filter(|r| r.fence == fence) {
                row.lease_until = None;
                if completed {
                    row.completed = Some(row.tick);
                }
            }
        });
        Box::pin(std::future::ready(answer))
    }
}
