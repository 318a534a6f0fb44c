//! Phase timings for performance work: with `TOPO_TIMINGS=1` in the environment, each
//! [`phase`] prints to stderr how long since the process started and since the previous
//! phase. Silent (one atomic load) otherwise.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

struct Clock {
    start: Instant,
    last: Mutex<Instant>,
}

fn clock() -> Option<&'static Clock> {
    static CLOCK: OnceLock<Option<Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            std::env::var_os("TOPO_TIMINGS").map(|_| {
                let now = Instant::now();
                Clock {
                    start: now,
                    last: Mutex::new(now),
                }
            })
        })
        .as_ref()
}

/// Starts the clock (call first thing in `main`).
pub fn start() {
    let _ = clock();
}

/// Marks the end of a phase named `what`.
pub fn phase(what: &str) {
    let Some(clock) = clock() else { return };
    let now = Instant::now();
    let mut last = clock.last.lock().unwrap_or_else(|e| e.into_inner());
    eprintln!(
        "timing: {:>8.1} ms  (+{:>7.1} ms)  {what}",
        (now - clock.start).as_secs_f64() * 1e3,
        (now - *last).as_secs_f64() * 1e3
    );
    *last = now;
}
