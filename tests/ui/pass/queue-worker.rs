//! `#[queue_worker]` with every option, and with the item alone.
#![deny(warnings)]

use host::queue::DeadLetter;
use host::Context;

#[derive(Clone)]
struct Email {
    to: String,
}

#[host::queue_worker(
    name = "mailer",
    order = -1,
    capacity = 1000,
    concurrency = 4,
    attempts = 5,
    backoff = "100ms",
    max_backoff = "10s",
    drain_timeout = "20s",
    dead_letter = park,
    on_shutdown_leftovers = persist,
)]
async fn send(email: Email, ctx: Context) -> anyhow::Result<()> {
    tracing::info!(to = %email.to, service = ctx.name(), "sent");
    Ok(())
}

async fn park(letter: DeadLetter<Email>) {
    tracing::error!(to = %letter.item.to, "undeliverable");
}

async fn persist(left: Vec<Email>) {
    tracing::warn!(n = left.len(), "saved for the next start");
}

/// The item alone, no return value.
#[host::queue_worker]
async fn count(_n: u64) {}

fn main() {}
