//! host-bench: what `host` costs over hand-written `tokio::spawn` + `tokio::time::interval`, and
//! over tokio-cron-scheduler and tokio-graceful-shutdown. See BENCHMARKS.md at the repository root.
//!
//! `host-bench all [--quick] [--reps N] [--scenarios a,b,c,d] [--impls baseline,host,tcs,tgs]`
//! runs every cell, each in a fresh process (this binary re-executed as
//! `host-bench <scenario> <impl> [--key value]…`, which prints one `RESULT` line), and prints the
//! tables of medians as Markdown.
//!
//! `host-bench queue [--items N] [--reps R]` measures the work queue (`host::queue`) against a
//! hand-written `tokio::sync::mpsc` worker loop, in process.

mod child;
mod floor;
mod imps;
mod macro_jobs;
mod parent;
mod probe;
mod queue;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("all") => parent::run(&args[1..]),
        Some("queue") => queue::run(&args[1..]),
        Some("e") if args.get(1).is_some_and(|s| s == "floor") => {
            child::run_floor(&child::Opts::parse(&args[2..]));
        }
        Some(scenario @ ("a" | "b" | "c" | "d" | "e")) => {
            let imp = args
                .get(1)
                .and_then(|s| imps::Imp::parse(s))
                .unwrap_or_else(|| usage("expected an implementation: baseline, host, tcs or tgs"));
            child::run(scenario, imp, &child::Opts::parse(&args[2..]));
        }
        _ => usage("expected `all` or `<scenario> <impl>`"),
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("host-bench: {msg}");
    eprintln!("usage: host-bench all [--quick] [--reps N] [--scenarios a,b,c,d] [--impls baseline,host,tcs,tgs]");
    eprintln!("       host-bench queue [--items N] [--reps R] [--threads T]");
    eprintln!("       host-bench <a|b|c|d> <baseline|host|tcs|tgs> [--n N] [--period-ms MS] …");
    eprintln!("       host-bench e floor [--n N]   (scenario e's floor: see src/floor.rs)");
    std::process::exit(2);
}
