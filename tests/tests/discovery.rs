//! Discovery through `inventory`: by-hand registration with `host::register!`, lazy construction
//! of selected services only, and name clashes between registered and explicit services.

use std::sync::atomic::{AtomicU32, Ordering};

use host::{Error, HostedService, Registration, Service};

static CONSTRUCTED: AtomicU32 = AtomicU32::new(0);

struct Counted;
impl HostedService for Counted {}

fn counted(name: &'static str) -> Service {
    CONSTRUCTED.fetch_add(1, Ordering::SeqCst);
    Service::hosted(name, Counted)
}

const REGISTERED_LINE: u32 = line!() + 1;
host::register!(Registration::new("counted", file!(), line!(), column!(), counted));

fn other(name: &'static str) -> Service {
    Service::hosted(name, Counted)
}
host::register!(Registration::new("other", file!(), line!(), column!(), other));

fn builder() -> host::Builder {
    host::Host::builder().catch_signals(false)
}

// One test: the construction counter is shared by everything in this binary.
#[test]
fn registered_services_are_constructed_only_when_selected() {
    let host = builder().except(["counted"]).build().unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), ["other"]);
    assert_eq!(
        CONSTRUCTED.load(Ordering::SeqCst),
        0,
        "an excluded service was constructed"
    );

    let host = builder().only(["other"]).build().unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), ["other"]);
    assert_eq!(CONSTRUCTED.load(Ordering::SeqCst), 0);

    let host = builder().build().unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), ["counted", "other"]);
    assert_eq!(CONSTRUCTED.load(Ordering::SeqCst), 1);

    // A clash between a registered and an explicit service names both places, and constructs
    // nothing.
    let Err(err) = builder().service(Service::hosted("counted", Counted)).build() else {
        panic!()
    };
    let Error::DuplicateName { name, first, second } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(name, "counted");
    assert_eq!((first.file, first.line), (file!(), REGISTERED_LINE));
    assert_eq!(second.file, file!());
    assert_eq!(CONSTRUCTED.load(Ordering::SeqCst), 1);

    let Err(err) = builder().only(["countd"]).build() else {
        panic!()
    };
    assert_eq!(
        err.to_string(),
        "no service is named `countd`; known services: counted, other"
    );
}
