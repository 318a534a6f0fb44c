//! Phase timings for performance work: with `TOPO_TIMINGS=1` in the environment, each
//! [`phase`] prints to stderr how long since the process started and since the previous
//! phase, and the resident memory. Silent (one atomic load) otherwise.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Clock {
    start: Instant,
    /// Wall clock and this thread's CPU time at the previous phase.
    last: Mutex<(Instant, Duration)>,
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec.max(0) as u64, t.tv_nsec.max(0) as u32)
}

fn clock() -> Option<&'static Clock> {
    static CLOCK: OnceLock<Option<Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            std::env::var_os("TOPO_TIMINGS").map(|_| {
                let now = Instant::now();
                Clock {
                    start: now,
                    last: Mutex::new((now, thread_cpu())),
                }
            })
        })
        .as_ref()
}

/// Starts the clock (call first thing in `main`).
pub(crate) fn start() {
    let _ = clock();
}

/// The process's resident memory now, in MB (Linux; 0 elsewhere).
fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1 << 20))
}

/// Marks the end of a phase named `what`.
pub(crate) fn phase(what: &str) {
    let Some(clock) = clock() else { return };
    let (now, cpu) = (Instant::now(), thread_cpu());
    let mut last = clock.last.lock().unwrap_or_else(|e| e.into_inner());
    // The CPU column is this thread's since the previous phase (meaningful when the previous
    // phase ran on the same thread).
    eprintln!(
        "timing: {:>8.1} ms  (+{:>7.1} ms, cpu {:>6.1} ms)  {:>4} MB  {what}",
        (now - clock.start).as_secs_f64() * 1e3,
        (now - last.0).as_secs_f64() * 1e3,
        cpu.saturating_sub(last.1).as_secs_f64() * 1e3,
        resident_mb()
    );
    *last = (now, cpu);
}
