//! A registered service whose constructor panics: `build()` fails with an error naming it (no
//! panic reaches the caller), and only when the service is selected.

use host::{Error, HostedService};

#[host::hosted_service(name = "exploding", new = Exploding::connect)]
struct Exploding;

impl Exploding {
    fn connect() -> Self {
        panic!("cannot reach the database")
    }
}

impl HostedService for Exploding {}

#[host::periodic(every = "1s")]
async fn fine() {}

#[test]
fn a_panicking_constructor_is_a_start_up_error_naming_the_service() {
    let err = host::Host::builder().catch_signals(false).build().unwrap_err();
    let Error::Constructor { service, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(service, "exploding");
    assert_eq!(source.to_string(), "panicked: cannot reach the database");
    assert_eq!(
        err.to_string(),
        "service `exploding` could not be constructed: panicked: cannot reach the database"
    );
    assert_eq!(err.exit_code(), std::process::ExitCode::from(1));
}

#[test]
fn a_panicking_constructor_of_a_service_not_selected_never_runs() {
    let host = host::Host::builder()
        .catch_signals(false)
        .except(["exploding"])
        .build()
        .unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), ["constructor_panic::fine"]);
}
