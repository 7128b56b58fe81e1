//! The PostgreSQL coordination backend (cargo feature `postgres`).
//!
//! Why `tokio-postgres` and one connection per host, not `sqlx` or a pool: a host sends tiny,
//! independent statements (a claim, a renewal, a release: one round trip each), and
//! `tokio-postgres` pipelines concurrent statements over a single connection, so 1 000 singleton
//! jobs firing on the same second share one connection without waiting for each other. A pool
//! (deadpool, bb8) would add a dependency and one connection per job in flight on every replica,
//! for no gain; `sqlx` brings its macros, its own runtime layer and a much longer build. The
//! connection is re-established on demand, with exponential back-off (100 ms to 5 s).
//!
//! # Schema
//!
//! Created idempotently when the host first connects (under an advisory lock, so replicas starting
//! together do not race), in the schema and table given to [`Postgres::schema`] and
//! [`Postgres::table`] (default `host.singleton_jobs`):
//!
//! ```sql
//! CREATE SCHEMA IF NOT EXISTS "host";
//! CREATE TABLE IF NOT EXISTS "host"."singleton_jobs" (
//!     job          text PRIMARY KEY,  -- the service name
//!     scheduled_ms bigint NOT NULL,   -- the last tick claimed: its scheduled time, ms since the epoch
//!     completed_ms bigint,            -- the last tick whose run succeeded
//!     fence        bigint NOT NULL,   -- +1 on every claim
//!     holder       text,              -- who holds the lease (NULL: released)
//!     lease_until  timestamptz,       -- when the lease runs out, on the database clock
//!     claimed_at   timestamptz        -- when the last claim was made
//! );
//! ```
//!
//! A role without `CREATE` rights can be given the table by a DBA running the same statements.

use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tokio_postgres::{Client, Config, NoTls, Statement};

use super::{Backend, BoxFuture, ClaimRequest, ClaimRow, Coordination};
use crate::error::BoxError;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Coordination of singleton jobs through PostgreSQL: a row per job, claimed with one atomic
/// statement on the database's clock. Give it to
/// [`Builder::coordination`](crate::Builder::coordination).
///
/// ```no_run
/// # fn demo() -> Result<(), host::Error> {
/// let pg = host::postgres::Postgres::new("postgresql://app:secret@db.internal/app")
///     .schema("ops")
///     .table("singleton_jobs");
/// let host = host::Host::builder().coordination(pg).build()?;
/// # Ok(()) }
/// ```
///
/// The URL (or `key=value` string) is anything
/// [`tokio_postgres::Config`](https://docs.rs/tokio-postgres/latest/tokio_postgres/config/struct.Config.html)
/// parses, Unix sockets included (`postgresql:///app?host=/run/postgresql`); TLS is not supported
/// yet. An invalid URL or name is reported by [`Builder::build`](crate::Builder::build)
/// ([`Error::InvalidCoordination`](crate::Error::InvalidCoordination)).
#[derive(Clone, Debug)]
#[must_use = "give it to `Host::builder().coordination(…)`"]
pub struct Postgres {
    url: String,
    schema: String,
    table: String,
    holder: Option<String>,
}

impl Postgres {
    /// The database at `url`, with the table `host.singleton_jobs`.
    pub fn new(url: impl Into<String>) -> Self {
        Postgres {
            url: url.into(),
            schema: "host".to_owned(),
            table: "singleton_jobs".to_owned(),
            holder: None,
        }
    }

    /// The schema of the jobs table (default `host`); created if missing.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The name of the jobs table (default `singleton_jobs`); created if missing.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// How this replica names itself in the `holder` column (default `pid <pid> <random>`), to
    /// tell from the table which replica holds a lease.
    pub fn holder(mut self, holder: impl Into<String>) -> Self {
        self.holder = Some(holder.into());
        self
    }
}

impl From<Postgres> for Coordination {
    fn from(pg: Postgres) -> Self {
        let holder = pg
            .holder
            .clone()
            .unwrap_or_else(|| format!("pid {} {:08x}", std::process::id(), fastrand::u32(..)));
        Coordination::new(Arc::new(Pg::new(pg, holder)))
    }
}

/// The backend: its statements, and the one connection, re-established on demand.
struct Pg {
    config: Result<Config, String>,
    names: Result<(), String>,
    describe: String,
    holder: String,
    ddl: String,
    claim_sql: String,
    renew_sql: String,
    release_sql: String,
    /// The live connection; cloned out (one reference count) by every statement.
    live: Mutex<Option<Arc<Live>>>,
    /// Held while connecting, so that one task connects and the others wait for it.
    connecting: tokio::sync::Mutex<Backoff>,
}

struct Live {
    client: Client,
    claim: Statement,
    renew: Statement,
    release: Statement,
}

#[derive(Default)]
struct Backoff {
    delay: Duration,
    retry_at: Option<Instant>,
}

/// `"name"` with embedded quotes doubled: any name is a valid identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Names are checked at build time: non-empty, at most 63 bytes (PostgreSQL's limit), no NUL.
fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 || name.contains('\0') {
        return Err(format!(
            "the PostgreSQL {what} name `{name}` must be 1 to 63 bytes long, without NUL"
        ));
    }
    Ok(())
}

impl Pg {
    fn new(pg: Postgres, holder: String) -> Self {
        let config = Config::from_str(&pg.url)
            .map_err(|e| format!("the PostgreSQL URL does not parse: {e}"))
            .and_then(|c| match c.get_ssl_mode() {
                tokio_postgres::config::SslMode::Require => {
                    Err("`sslmode=require`: TLS is not supported yet by host's PostgreSQL coordination".to_owned())
                }
                _ => Ok(c),
            });
        let names = check_name("schema", &pg.schema).and_then(|()| check_name("table", &pg.table));
        let schema = quote(&pg.schema);
        let table = format!("{schema}.{}", quote(&pg.table));
        let ddl = format!(
            "BEGIN;
             SET LOCAL client_min_messages = warning;
             SELECT pg_advisory_xact_lock(hashtext('host singleton jobs schema'));
             CREATE SCHEMA IF NOT EXISTS {schema};
             CREATE TABLE IF NOT EXISTS {table} (
                 job text PRIMARY KEY,
                 scheduled_ms bigint NOT NULL,
                 completed_ms bigint,
                 fence bigint NOT NULL,
                 holder text,
                 lease_until timestamptz,
                 claimed_at timestamptz
             );
             COMMIT;"
        );
        // One statement: read the database clock, number the tick due now, and claim it only if
        // it is newer than the stored one and no lease is held. The losers update nothing; every
        // caller gets the clock and the tick back.
        let claim_sql = format!(
            "WITH due AS (
                 SELECT now_ms,
                        CASE WHEN $2::bigint > 0 THEN (now_ms / $2::bigint) * $2::bigint ELSE $3::bigint END AS tick
                 FROM (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms) AS clock
             ), claimed AS (
                 INSERT INTO {table} AS j (job, scheduled_ms, fence, holder, lease_until, claimed_at)
                 SELECT $1::text, due.tick, 1, $4::text,
                        clock_timestamp() + $5::bigint * interval '1 millisecond', clock_timestamp()
                 FROM due WHERE due.tick >= $3::bigint AND due.tick <= due.now_ms
                 ON CONFLICT (job) DO UPDATE
                 SET scheduled_ms = EXCLUDED.scheduled_ms, fence = j.fence + 1, holder = EXCLUDED.holder,
                     lease_until = EXCLUDED.lease_until, claimed_at = EXCLUDED.claimed_at
                 WHERE j.scheduled_ms < EXCLUDED.scheduled_ms
                   AND (j.lease_until IS NULL OR j.lease_until < clock_timestamp())
                 RETURNING j.fence, j.completed_ms
             )
             SELECT due.now_ms, due.tick, claimed.fence, claimed.completed_ms FROM due LEFT JOIN claimed ON true"
        );
        let renew_sql = format!(
            "UPDATE {table} SET lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'
             WHERE job = $1::text AND fence = $2::bigint AND holder IS NOT NULL"
        );
        let release_sql = format!(
            "UPDATE {table} SET holder = NULL, lease_until = NULL,
                 completed_ms = CASE WHEN $3::bool THEN scheduled_ms ELSE completed_ms END
             WHERE job = $1::text AND fence = $2::bigint"
        );
        let describe = format!(
            "postgres ({table}, holder {holder:?}{})",
            config
                .as_ref()
                .map(|c| format!(", db {:?}", c.get_dbname().unwrap_or("")))
                .unwrap_or_default()
        );
        Pg {
            config,
            names,
            describe,
            holder,
            ddl,
            claim_sql,
            renew_sql,
            release_sql,
            live: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(Backoff::default()),
        }
    }

    fn current(&self) -> Option<Arc<Live>> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.as_ref().filter(|l| !l.client.is_closed()).cloned()
    }

    /// The live connection, connecting (and creating the schema) when there is none and the
    /// back-off allows.
    async fn connection(&self) -> Result<Arc<Live>, BoxError> {
        if let Some(live) = self.current() {
            return Ok(live);
        }
        let mut backoff = self.connecting.lock().await;
        if let Some(live) = self.current() {
            return Ok(live); // another task connected meanwhile
        }
        if let Some(at) = backoff.retry_at.filter(|at| *at > Instant::now()) {
            let wait = at.saturating_duration_since(Instant::now());
            return Err(format!("not connected; next attempt in {}", humantime::format_duration(wait)).into());
        }
        match self.connect().await {
            Ok(live) => {
                *backoff = Backoff::default();
                let live = Arc::new(live);
                *self.live.lock().unwrap_or_else(PoisonError::into_inner) = Some(live.clone());
                tracing::info!(holder = %self.holder, "connected to the coordination database");
                Ok(live)
            }
            Err(error) => {
                backoff.delay = backoff.delay.saturating_mul(2).clamp(MIN_BACKOFF, MAX_BACKOFF);
                backoff.retry_at = Some(crate::clock::deadline(Instant::now(), backoff.delay));
                tracing::warn!(%error, retry_in = %humantime::format_duration(backoff.delay), "cannot connect to the coordination database");
                Err(error)
            }
        }
    }

    async fn connect(&self) -> Result<Live, BoxError> {
        let mut config = self.config.clone().map_err(BoxError::from)?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("host");
        }
        let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, config.connect(NoTls))
            .await
            .map_err(|_| "connecting timed out")??;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "the coordination database connection ended");
            }
        });
        client.batch_execute(&self.ddl).await?;
        let claim = client.prepare(&self.claim_sql).await?;
        let renew = client.prepare(&self.renew_sql).await?;
        let release = client.prepare(&self.release_sql).await?;
        Ok(Live {
            client,
            claim,
            renew,
            release,
        })
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Backend for Pg {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn check(&self) -> Result<(), String> {
        self.config.as_ref().map(drop).map_err(Clone::clone)?;
        self.names.clone()
    }

    fn claim<'a>(&'a self, request: ClaimRequest<'a>) -> BoxFuture<'a, Result<ClaimRow, BoxError>> {
        Box::pin(async move {
            let live = self.connection().await?;
            let lease = millis(request.lease);
            let row = live
                .client
                .query_one(
                    &live.claim,
                    &[&request.job, &request.period_ms, &request.key, &self.holder, &lease],
                )
                .await?;
            Ok(ClaimRow {
                now_ms: row.try_get(0)?,
                tick: row.try_get(1)?,
                fence: row.try_get(2)?,
                completed: row.try_get(3)?,
            })
        })
    }

    fn renew<'a>(&'a self, job: &'a str, fence: i64, lease: Duration) -> BoxFuture<'a, Result<bool, BoxError>> {
        Box::pin(async move {
            let live = self.connection().await?;
            let updated = live
                .client
                .execute(&live.renew, &[&job, &fence, &millis(lease)])
                .await?;
            Ok(updated == 1)
        })
    }

    fn release<'a>(&'a self, job: &'a str, fence: i64, completed: bool) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async move {
            let live = self.connection().await?;
            live.client.execute(&live.release, &[&job, &fence, &completed]).await?;
            Ok(())
        })
    }
}
