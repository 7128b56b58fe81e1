//! Compile-time behaviour of `#[host::hosted_service]` and `#[host::periodic]`: what compiles
//! (`ui/pass`) and the exact errors of what must not (`ui/fail`, with `.stderr` snapshots made by
//! the pinned toolchain; regenerate with `TRYBUILD=overwrite`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
