//! Shared values [`Builder::provide`](crate::Builder::provide) stores them once per
//! type, [`Dep<T>`] hands them to services, and [`Constructor`] builds a service from them.
//!
//! # Design
//!
//! - **Resolved at build time, once per service.** Every service states what it needs through the
//!   types of its parameters; [`Builder::build`](crate::Builder::build) resolves them against the
//!   provided values before any service starts, so a missing value is an error naming the service,
//!   the parameter and the type, never a failure at the first tick. A resolved [`Dep<T>`] is kept
//!   by the service: each run clones an `Arc` (no lookup, lock or allocation per tick).
//! - **One value per type.** Values are keyed by their type, as axum's `Extension` and .NET's
//!   service collection do; two values of one type are told apart by newtypes
//!   (`struct ReadPool(Pool)`). Providing a type again replaces the earlier value.
//! - **`Dep<T>` rather than `&T`**: a service's future must be `'static` and may outlive a
//!   borrow, so parameters own their share (an `Arc`); `Dep<T>` derefs to `T`.
//! - **Services built by hand ask through their constructor**, not a run-time lookup
//!   (`ctx.get::<T>()` would fail at the first tick, not at start-up):
//!   [`Service::hosted_from`] and [`Service::periodic_from`] take functions of `Dep<T>`s, resolved
//!   and checked by `build()` like the annotated ones.
//! - **Constructors may be injected, fallible and async** ([`Constructor`]). A plain or fallible
//!   constructor runs at build time (its error or panic is [`Error::Constructor`](crate::Error::Constructor));
//!   an async one runs on the service's task right before its start hook (an error there is the
//!   service's start failure). A restart constructs a fresh value the same way.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use crate::context::Context;
use crate::error::{BoxError, Failure};
use crate::panic;
use crate::schedule::Schedule;
use crate::service::{HostedService, Job};
use crate::slot::{PeriodicSlot, Service, Slot};
use crate::status::ServiceKind;
use crate::supervisor::{Body, Spawned, Started, Task};

/// A shared value the host injects: a parameter of type `Dep<T>` receives the `T` given to
/// [`Builder::provide`](crate::Builder::provide).
///
/// It derefs to `T` and clones cheaply (an `Arc`). Accepted by `#[host::hosted_service]` and
/// `#[host::periodic]` functions, by the `new = path` constructor of a `#[hosted_service]` type,
/// and by [`Service::hosted_from`] / [`Service::periodic_from`].
///
/// ```
/// use host::Dep;
///
/// #[derive(Debug)]
/// struct Pool { url: String }
///
/// #[host::periodic(every = "30s")]
/// async fn refresh(pool: Dep<Pool>) {
///     tracing::info!(url = %pool.url, "refreshing");
/// }
///
/// # async fn demo() -> Result<(), host::Error> {
/// host::Host::builder()
///     .provide(Pool { url: "postgres://db".into() })
///     .build()?
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Two values of one type are told apart by newtypes: `struct ReadPool(Pool);`,
/// `struct WritePool(Pool);`, and `Dep<ReadPool>`.
pub struct Dep<T: ?Sized>(Arc<T>);

impl<T> Dep<T> {
    /// A value wrapped as the host would hand it over: for calling a service or job function
    /// directly in a unit test (see [`testing`](crate::testing) with the `testing` feature).
    pub fn new(value: T) -> Self {
        Dep(Arc::new(value))
    }
}

impl<T: ?Sized> Dep<T> {
    /// The shared `Arc`.
    pub fn arc(this: &Self) -> &Arc<T> {
        &this.0
    }

    /// The shared `Arc`, by value.
    pub fn into_arc(this: Self) -> Arc<T> {
        this.0
    }
}

impl<T: ?Sized> Deref for Dep<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> Clone for Dep<T> {
    fn clone(&self) -> Self {
        Dep(self.0.clone())
    }
}

impl<T: ?Sized> From<Arc<T>> for Dep<T> {
    fn from(value: Arc<T>) -> Self {
        Dep(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Dep<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// The values given to [`Builder::provide`](crate::Builder::provide), one per type.
#[derive(Default, Clone)]
pub struct Provided {
    values: HashMap<TypeId, Entry>,
}

#[derive(Clone)]
struct Entry {
    type_name: &'static str,
    value: Arc<dyn Any + Send + Sync>,
}

impl Provided {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        let entry = Entry {
            type_name: std::any::type_name::<T>(),
            value,
        };
        self.values.insert(TypeId::of::<T>(), entry);
    }

    /// The value of type `T`, if one was provided.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Dep<T>> {
        let entry = self.values.get(&TypeId::of::<T>())?;
        entry.value.clone().downcast::<T>().ok().map(Dep)
    }

    /// The value of type `T`, or the error naming `parameter` and the type.
    pub fn require<T: Send + Sync + 'static>(&self, parameter: impl Into<String>) -> Result<Dep<T>, Missing> {
        self.get().ok_or_else(|| Missing {
            parameter: parameter.into(),
            type_name: std::any::type_name::<T>(),
        })
    }

    /// The names of the provided types, sorted.
    pub fn type_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.values.values().map(|e| e.type_name).collect();
        names.sort_unstable();
        names
    }
}

impl fmt::Debug for Provided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.type_names()).finish()
    }
}

/// A parameter whose value was never provided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter {parameter} needs a `{type_name}`, which was never provided")]
pub struct Missing {
    /// The parameter: `` `pool` `` for a function's, `#1 of `path::to::new`` for a constructor's.
    pub parameter: String,
    /// The type of the missing value (`std::any::type_name`).
    pub type_name: &'static str,
}

/// A parameter of a service constructor ([`Constructor`]): [`Dep<T>`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a service constructor",
    label = "the host can only inject `host::Dep<T>` here",
    note = "take shared values as `host::Dep<T>` and give them to `Host::builder().provide(value)`"
)]
pub trait Inject: Clone + Send + Sync + Sized + 'static {
    /// Takes the value from `provided`.
    fn inject(provided: &Provided, parameter: String) -> Result<Self, Missing>;
}

impl<T: Send + Sync + 'static> Inject for Dep<T> {
    fn inject(provided: &Provided, parameter: String) -> Result<Self, Missing> {
        provided.require(parameter)
    }
}

/// What a constructor returns: the value, `Result<S, E>`, or a future of either.
pub type Construction<S> = Result<S, BoxError>;

/// A boxed construction in progress (an `async` constructor's future).
pub type ConstructionFuture<S> = Pin<Box<dyn Future<Output = Construction<S>> + Send>>;

/// What calling a constructor gives: the value (or its error) now, or a future of it.
pub enum Built<S> {
    /// A plain or fallible constructor's result.
    Ready(Construction<S>),
    /// An `async` constructor's future.
    Later(ConstructionFuture<S>),
}

/// Markers telling the shapes of a constructor's output apart (so that one trait covers all four
/// without overlapping impls).
pub mod shape {
    /// Returns the value.
    #[derive(Debug)]
    pub struct Value;
    /// Returns `Result<S, E>`.
    #[derive(Debug)]
    pub struct Fallible;
    /// `async`, returns the value.
    #[derive(Debug)]
    pub struct Async;
    /// `async`, returns `Result<S, E>`.
    #[derive(Debug)]
    pub struct AsyncFallible;
}

/// The output of a constructor of `S`: `S`, `Result<S, E>`, or a future of either.
#[diagnostic::on_unimplemented(
    message = "a constructor of `{S}` must return `{S}`, `Result<{S}, E>`, or be an `async fn` returning one of them; this one returns `{Self}`",
    label = "returns `{Self}`"
)]
pub trait ConstructorOutput<S, M>: Send + 'static {
    /// The value now, or its future.
    fn into_built(self) -> Built<S>;
}

impl<S: HostedService> ConstructorOutput<S, shape::Value> for S {
    fn into_built(self) -> Built<S> {
        Built::Ready(Ok(self))
    }
}

impl<S: HostedService, E: Into<BoxError> + 'static> ConstructorOutput<S, shape::Fallible> for Result<S, E>
where
    Result<S, E>: Send,
{
    fn into_built(self) -> Built<S> {
        Built::Ready(self.map_err(Into::into))
    }
}

impl<S: HostedService, F: Future<Output = S> + Send + 'static> ConstructorOutput<S, shape::Async> for F {
    fn into_built(self) -> Built<S> {
        Built::Later(Box::pin(async move { Ok(self.await) }))
    }
}

impl<S, E, F> ConstructorOutput<S, shape::AsyncFallible> for F
where
    S: HostedService,
    E: Into<BoxError> + 'static,
    F: Future<Output = Result<S, E>> + Send + 'static,
{
    fn into_built(self) -> Built<S> {
        Built::Later(Box::pin(async move { self.await.map_err(Into::into) }))
    }
}

/// A constructor of the [`HostedService`] `S`: a function or closure whose parameters are
/// [`Dep<T>`]s (up to 8), returning `S` or `Result<S, E>`, or `async` returning either.
///
/// Used by `#[hosted_service(new = path)]` and [`Service::hosted_from`]. `Args` and `M` are
/// inferred; they tell the parameter list and the output's shape apart.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a constructor of `{S}`",
    label = "not a constructor of `{S}`",
    note = "a constructor takes only `host::Dep<T>` parameters (up to 8) and returns `{S}` or `Result<{S}, E>`, \
            or is an `async fn` returning one of them"
)]
pub trait Constructor<S, Args, M>: Send + 'static {
    /// The injected arguments, resolved once at build time.
    type Deps: Send + Sync + 'static;

    /// Resolves the arguments; `name` is the constructor's, for the error.
    fn resolve(provided: &Provided, name: &str) -> Result<Self::Deps, Missing>;

    /// Calls the constructor with clones of the arguments.
    fn construct(&mut self, deps: &Self::Deps) -> Built<S>;
}

/// A [`Job`] factory for [`Service::periodic_from`]: a function or closure whose parameters are
/// [`Dep<T>`]s (up to 8), returning the job.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a job factory",
    note = "a job factory takes only `host::Dep<T>` parameters (up to 8) and returns the job, for example a \
            closure `move |ctx, tick| async move {{ … }}`"
)]
pub trait JobFactory<J, Args>: Send + 'static {
    /// Resolves the arguments and builds the job.
    fn build(self, provided: &Provided, name: &str) -> Result<J, Missing>;

    /// Whether every argument was provided, without building anything.
    fn check(provided: &Provided, name: &str) -> Result<(), Missing>;
}

macro_rules! constructors {
    ($($arg:ident $n:literal),*) => {
        impl<S, F, R, M, $($arg: Inject),*> Constructor<S, ($($arg,)*), M> for F
        where
            F: FnMut($($arg),*) -> R + Send + 'static,
            R: ConstructorOutput<S, M>,
        {
            type Deps = ($($arg,)*);

            #[allow(unused_variables)]
            fn resolve(provided: &Provided, name: &str) -> Result<Self::Deps, Missing> {
                Ok(($($arg::inject(provided, format!("#{} of `{name}`", $n))?,)*))
            }

            #[allow(non_snake_case)]
            fn construct(&mut self, deps: &Self::Deps) -> Built<S> {
                let ($($arg,)*) = deps;
                self($($arg.clone()),*).into_built()
            }
        }

        impl<J, F, $($arg: Inject),*> JobFactory<J, ($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> J + Send + 'static,
            J: Job,
        {
            #[allow(unused_variables)]
            fn build(self, provided: &Provided, name: &str) -> Result<J, Missing> {
                Ok(self($($arg::inject(provided, format!("#{} of `{name}`", $n))?),*))
            }

            #[allow(unused_variables)]
            fn check(provided: &Provided, name: &str) -> Result<(), Missing> {
                $($arg::inject(provided, format!("#{} of `{name}`", $n))?;)*
                Ok(())
            }
        }
    };
}

constructors!();
constructors!(A1 1);
constructors!(A1 1, A2 2);
constructors!(A1 1, A2 2, A3 3);
constructors!(A1 1, A2 2, A3 3, A4 4);
constructors!(A1 1, A2 2, A3 3, A4 4, A5 5);
constructors!(A1 1, A2 2, A3 3, A4 4, A5 5, A6 6);
constructors!(A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7);
constructors!(A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8);

/// A service's parameter whose value was never provided (see
/// [`Error::MissingDependency`](crate::Error::MissingDependency)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service `{service}`: parameter {parameter} needs a `{type_name}`, which was never provided")]
pub struct Unprovided {
    /// The service.
    pub service: String,
    /// The parameter: `` `pool` `` for a function's, ``#1 of `path::to::new` `` for a constructor's.
    pub parameter: String,
    /// The type of the missing value (`std::any::type_name`).
    pub type_name: &'static str,
}

/// Why a service could not be resolved at build time.
pub(crate) enum Unresolved {
    Missing(Missing),
    Constructor(Failure),
}

/// Whether every injected value is there, without constructing anything.
type Check = Box<dyn Fn(&Provided) -> Result<(), Missing> + Send>;
type Resolve = Box<dyn FnOnce(&Provided, &str) -> Result<Box<dyn Slot>, Unresolved> + Send>;

/// A service whose parameters are resolved by the builder: until then, its kind (and a periodic
/// one's schedule, handed to the slot it resolves to).
pub(crate) enum Pending {
    Hosted(Check, Resolve),
    Periodic(Check, Resolve, Option<Schedule>),
}

impl Pending {
    pub(crate) fn hosted(check: Check, resolve: Resolve) -> Box<dyn Slot> {
        Box::new(Pending::Hosted(check, resolve))
    }

    pub(crate) fn periodic(check: Check, resolve: Resolve) -> Box<dyn Slot> {
        Box::new(Pending::Periodic(check, resolve, None))
    }
}

impl Slot for Pending {
    fn kind(&self) -> ServiceKind {
        match self {
            Pending::Hosted(..) => ServiceKind::Hosted,
            Pending::Periodic(..) => ServiceKind::Periodic,
        }
    }

    fn is_pending(&self) -> bool {
        true
    }

    fn check(&self, provided: &Provided) -> Result<(), Missing> {
        match self {
            Pending::Hosted(check, _) | Pending::Periodic(check, ..) => check(provided),
        }
    }

    fn resolve(self: Box<Self>, provided: &Provided, name: &str) -> Result<Box<dyn Slot>, Unresolved> {
        match *self {
            Pending::Hosted(_, resolve) => resolve(provided, name),
            Pending::Periodic(_, resolve, schedule) => {
                let mut slot = resolve(provided, name)?;
                if let Some(schedule) = schedule {
                    slot.set_schedule(schedule);
                }
                Ok(slot)
            }
        }
    }

    fn schedule(&self) -> Option<&Schedule> {
        match self {
            Pending::Periodic(_, _, schedule) => schedule.as_ref(),
            Pending::Hosted(..) => None,
        }
    }

    #[cfg(feature = "config")]
    fn schedule_mut(&mut self) -> Option<&mut Schedule> {
        match self {
            Pending::Periodic(_, _, schedule) => schedule.as_mut(),
            Pending::Hosted(..) => None,
        }
    }

    fn set_schedule(&mut self, new: Schedule) {
        if let Pending::Periodic(_, _, schedule) = self {
            *schedule = Some(new);
        }
    }

    fn take_schedule(&mut self) -> Option<Schedule> {
        match self {
            Pending::Periodic(_, _, schedule) => schedule.take(),
            Pending::Hosted(..) => None,
        }
    }

    /// Not reached: [`Builder::build`](crate::Builder::build), the only way to a host, resolves
    /// every service. Should it happen, the service fails to start with the reason, rather than
    /// the process panicking.
    fn spawn(self: Box<Self>, task: Task) -> (Spawned, Started) {
        let slot = match self.resolve(&Provided::default(), "") {
            Ok(slot) => slot,
            Err(_) => Box::new(Unresolvable),
        };
        slot.spawn(task)
    }
}

/// The hosted service of a [`Constructor`], built on its task when it is `async` (or after a
/// restart), then started.
struct Constructed<S, C: Constructor<S, A, M>, A, M> {
    service: Option<S>,
    /// An `async` constructor's first future, made at build time and awaited at start.
    first: Option<ConstructionFuture<S>>,
    constructor: C,
    deps: C::Deps,
    _marker: PhantomData<fn() -> (A, M)>,
}

/// A service that was never resolved (see [`Pending::spawn`]): its start fails with the reason.
struct Unresolvable;

impl Body for Unresolvable {
    const KIND: ServiceKind = ServiceKind::Hosted;
    const HOOKS: bool = true;

    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        Err("the service was never resolved (a host bug: `Builder::build` resolves every service)".into())
    }

    async fn run_once(&mut self, _ctx: &Context) -> Result<(), Failure> {
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        Ok(())
    }

    fn renew(&mut self) -> Result<(), Failure> {
        Ok(())
    }
}

impl<S, C, A, M> Constructed<S, C, A, M>
where
    S: HostedService,
    C: Constructor<S, A, M>,
    A: 'static,
    M: 'static,
{
    async fn construct(&mut self) -> Result<S, BoxError> {
        let built = match self.first.take() {
            Some(future) => Built::Later(future),
            None => self.constructor.construct(&self.deps),
        };
        match built {
            Built::Ready(result) => result,
            Built::Later(future) => future.await,
        }
    }
}

impl<S, C, A, M> Body for Constructed<S, C, A, M>
where
    S: HostedService,
    C: Constructor<S, A, M>,
    A: 'static,
    M: 'static,
{
    const KIND: ServiceKind = ServiceKind::Hosted;
    const HOOKS: bool = true;

    async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        if self.service.is_none() {
            let service = self.construct().await?;
            self.service = Some(service);
        }
        match &mut self.service {
            Some(service) => service.start(ctx).await,
            None => Ok(()),
        }
    }

    async fn run_once(&mut self, ctx: &Context) -> Result<(), Failure> {
        let Some(service) = &mut self.service else {
            return Ok(());
        };
        // Stamped, counted and recorded as every hosted body is.
        crate::slot::run_begins(ctx);
        let result = panic::catch(|| service.run(ctx), &ctx.status().busy).await;
        crate::slot::run_ended(ctx, &result);
        result
    }

    async fn stop(&mut self, ctx: &Context) -> Result<(), BoxError> {
        match &mut self.service {
            Some(service) => service.stop(ctx).await,
            None => Ok(()),
        }
    }

    /// Drops the failed value; the restart's start hook constructs a fresh one.
    fn renew(&mut self) -> Result<(), Failure> {
        match self.service.take() {
            Some(old) => panic::drop_caught(old),
            None => Ok(()),
        }
    }
}

impl Service {
    /// A [`HostedService`] built by `constructor` from provided values, now and again for every
    /// restart. The constructor takes [`Dep<T>`] parameters and returns the service or
    /// `Result<Service, E>`, or is `async` (see [`Constructor`]); `#[hosted_service(new = path)]`
    /// generates this.
    ///
    /// ```
    /// use host::{BoxError, Context, Dep, HostedService, Service};
    ///
    /// struct Pool;
    /// struct Worker { pool: Dep<Pool> }
    ///
    /// impl HostedService for Worker {
    ///     async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
    ///         let _pool: &Pool = &self.pool;
    ///         ctx.cancelled().await;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// async fn connect(pool: Dep<Pool>) -> Result<Worker, std::io::Error> {
    ///     Ok(Worker { pool })
    /// }
    ///
    /// # fn demo() -> Result<(), host::Error> {
    /// let host = host::Host::builder()
    ///     .provide(Pool)
    ///     .service(Service::hosted_from("worker", connect))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    ///
    /// A parameter whose type was never provided makes [`Builder::build`](crate::Builder::build)
    /// fail with [`Error::MissingDependency`](crate::Error::MissingDependency). A plain or fallible
    /// constructor runs at build time (an error or panic is
    /// [`Error::Constructor`](crate::Error::Constructor)); an `async` one on the service's task
    /// just before its start hook (an error is its start failure).
    #[track_caller]
    pub fn hosted_from<S, A, M, C>(name: impl Into<Arc<str>>, constructor: C) -> Self
    where
        S: HostedService,
        C: Constructor<S, A, M>,
        A: 'static,
        M: 'static,
    {
        let resolve: Resolve = Box::new(move |provided, _name| {
            let mut constructor = constructor;
            let constructor_name = std::any::type_name::<C>();
            let deps = C::resolve(provided, constructor_name).map_err(Unresolved::Missing)?;
            let built = panic::call_caught(|| constructor.construct(&deps)).map_err(Unresolved::Constructor)?;
            let (service, first) = match built {
                Built::Ready(Ok(service)) => (Some(service), None),
                Built::Ready(Err(error)) => return Err(Unresolved::Constructor(Failure::Error(error))),
                Built::Later(future) => (None, Some(future)),
            };
            Ok(Box::new(Constructed {
                service,
                first,
                constructor,
                deps,
                _marker: PhantomData,
            }) as Box<dyn Slot>)
        });
        let check: Check = Box::new(|provided| C::resolve(provided, std::any::type_name::<C>()).map(drop));
        Service::from_slot(name.into(), Pending::hosted(check, resolve))
    }

    /// A periodic service whose job is built by `factory` from provided values, at build time:
    /// `factory` takes [`Dep<T>`] parameters and returns the [`Job`].
    ///
    /// ```
    /// use host::{Dep, Schedule, Service};
    /// use std::time::Duration;
    ///
    /// struct Pool;
    ///
    /// let service = Service::periodic_from("vacuum", Schedule::every(Duration::from_secs(60)), |pool: Dep<Pool>| {
    ///     move |_ctx, _tick| {
    ///         let pool = pool.clone();
    ///         async move {
    ///             let _pool: &Pool = &pool;
    ///         }
    ///     }
    /// });
    /// ```
    #[track_caller]
    pub fn periodic_from<J: Job, A: 'static, F: JobFactory<J, A>>(
        name: impl Into<Arc<str>>,
        schedule: Schedule,
        factory: F,
    ) -> Self {
        let resolve: Resolve = Box::new(move |provided, _| {
            let job = factory
                .build(provided, std::any::type_name::<F>())
                .map_err(Unresolved::Missing)?;
            Ok(Box::new(PeriodicSlot::new(job)))
        });
        let check: Check = Box::new(|provided| F::check(provided, std::any::type_name::<F>()));
        Service::from_slot(name.into(), Pending::periodic(check, resolve)).with_schedule(schedule)
    }
}

/// What the generated code of an annotated function uses: its parameters are resolved by the
/// builder (`prepare`) and handed to each call (`get`).
pub(crate) mod params {
    use std::any::Any;
    use std::sync::Arc;

    use super::{Dep, Missing, Provided};
    use crate::context::Context;
    use crate::params::{FromContext, FromRun};
    use crate::schedule::Tick;

    /// What a parameter keeps from build time: nothing, or its provided value. One type for
    /// every parameter, so that the generated struct never names a parameter's type (an
    /// unsupported type is then reported once, on the parameter).
    #[derive(Clone)]
    pub enum ParamState {
        /// Built from the context (and tick) on each call.
        Context,
        /// A provided value, downcast on each call (a type-id comparison and a reference count).
        Provided(Arc<dyn Any + Send + Sync>),
    }

    impl ParamState {
        fn get<T: Send + Sync + 'static>(&self) -> Option<Dep<T>> {
            match self {
                ParamState::Provided(value) => value.clone().downcast::<T>().ok().map(Dep),
                ParamState::Context => None,
            }
        }
    }

    fn prepare_dep<T: Send + Sync + 'static>(provided: &Provided, parameter: &str) -> Result<ParamState, Missing> {
        let value = provided.require::<T>(format!("`{parameter}`"))?;
        let value: Arc<T> = Dep::into_arc(value);
        Ok(ParamState::Provided(value as Arc<dyn Any + Send + Sync>))
    }

    /// A parameter of a `#[hosted_service]` function: a [`FromContext`] type, or a [`Dep<T>`].
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a parameter of a `#[hosted_service]` function",
        label = "the host does not know how to supply this parameter",
        note = "supported parameter types: `host::Context`, `&host::Context`, `host::Dep<T>` (a value given to \
                `Host::builder().provide(…)`, `T: Send + Sync + 'static`), or a type that implements `host::FromContext`"
    )]
    pub trait HostedParam<'a>: Sized {
        /// Resolves the parameter at build time.
        fn prepare(provided: &Provided, parameter: &str) -> Result<ParamState, Missing>;
        /// The argument of one call; `None` only if `state` is not what `prepare` made.
        fn get(state: &'a ParamState, ctx: &'a Context) -> Option<Self>;
    }

    impl<'a, T: FromContext<'a>> HostedParam<'a> for T {
        fn prepare(_: &Provided, _: &str) -> Result<ParamState, Missing> {
            Ok(ParamState::Context)
        }
        fn get(_: &'a ParamState, ctx: &'a Context) -> Option<Self> {
            Some(T::from_context(ctx))
        }
    }

    impl<'a, T: Send + Sync + 'static> HostedParam<'a> for Dep<T> {
        fn prepare(provided: &Provided, parameter: &str) -> Result<ParamState, Missing> {
            prepare_dep::<T>(provided, parameter)
        }
        fn get(state: &'a ParamState, _: &'a Context) -> Option<Self> {
            state.get()
        }
    }

    /// A parameter of a `#[periodic]` function: a [`FromRun`] type, or a [`Dep<T>`].
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a parameter of a `#[periodic]` function",
        label = "the host does not know how to supply this parameter",
        note = "supported parameter types: `host::Context`, `&host::Context`, `host::Tick`, `host::Dep<T>` (a \
                value given to `Host::builder().provide(…)`, `T: Send + Sync + 'static`), or a type that implements \
                `host::FromRun`"
    )]
    pub trait RunParam<'a>: Sized {
        /// Resolves the parameter at build time.
        fn prepare(provided: &Provided, parameter: &str) -> Result<ParamState, Missing>;
        /// The argument of one run; `None` only if `state` is not what `prepare` made.
        fn get(state: &'a ParamState, ctx: &'a Context, tick: &'a Tick) -> Option<Self>;
    }

    impl<'a, T: FromRun<'a>> RunParam<'a> for T {
        fn prepare(_: &Provided, _: &str) -> Result<ParamState, Missing> {
            Ok(ParamState::Context)
        }
        fn get(_: &'a ParamState, ctx: &'a Context, tick: &'a Tick) -> Option<Self> {
            Some(T::from_run(ctx, tick))
        }
    }

    impl<'a, T: Send + Sync + 'static> RunParam<'a> for Dep<T> {
        fn prepare(provided: &Provided, parameter: &str) -> Result<ParamState, Missing> {
            prepare_dep::<T>(provided, parameter)
        }
        fn get(state: &'a ParamState, _: &'a Context, _: &'a Tick) -> Option<Self> {
            state.get()
        }
    }

    /// The error of a call whose parameter state does not match (not reached: the state is the
    /// one `prepare` made for the same type).
    pub fn mismatch(parameter: &str) -> crate::BoxError {
        format!("parameter `{parameter}`: its resolved value has another type (a host bug)").into()
    }
}

/// `#[hosted_service] async fn`: the generated service, built from provided values.
pub(crate) fn hosted_fn<S: HostedService>(
    name: &'static str,
    build: impl Fn(&Provided) -> Result<S, Missing> + Copy + Send + 'static,
) -> Service {
    let resolve: Resolve = Box::new(move |provided, name| {
        let service = build(provided).map_err(Unresolved::Missing)?;
        Ok(Service::hosted(name.to_owned(), service).slot)
    });
    // Building the generated value only resolves its parameters: no user code runs.
    let check: Check = Box::new(move |provided| build(provided).map(drop));
    Service::from_slot(name.into(), Pending::hosted(check, resolve))
}

/// `#[periodic] async fn`: the generated job, built from provided values.
pub(crate) fn periodic_fn<J: Job>(
    name: &'static str,
    schedule: Schedule,
    build: impl Fn(&Provided) -> Result<J, Missing> + Copy + Send + 'static,
) -> Service {
    let resolve: Resolve = Box::new(move |provided, _| {
        let job = build(provided).map_err(Unresolved::Missing)?;
        Ok(Box::new(PeriodicSlot::new(job)))
    });
    let check: Check = Box::new(move |provided| build(provided).map(drop));
    Service::from_slot(name.into(), Pending::periodic(check, resolve)).with_schedule(schedule)
}
