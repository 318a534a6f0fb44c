//! How `apply --wait` shows that it is waiting, and for whom: on a terminal one live line
//! (rewritten at each look), elsewhere — a CI log, `CI=true` — a plain line every few seconds
//! naming the chassis that lag, so a long wait never looks hung and the log stays short.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::apply::{Progress, WaitStatus};

/// How often a plain line is written (the first after one interval).
const EVERY: Duration = Duration::from_secs(3);

/// The line for `status`.
pub(crate) fn line(status: &WaitStatus) -> String {
    let mut out = format!(
        "waiting for {} ({:.0} s)",
        status.what,
        status.elapsed.as_secs_f64()
    );
    if !status.caught_up.is_empty() {
        out.push_str(&format!("; caught up: {}", status.caught_up.join(", ")));
    }
    if !status.lagging.is_empty() {
        out.push_str(&format!("; waiting for: {}", status.lagging.join(", ")));
    }
    out
}

/// A live line on a terminal; plain lines when stderr is not one or `CI=true`.
pub(crate) fn reporter() -> (Progress, Finish) {
    let live = std::io::stderr().is_terminal() && std::env::var("CI").map_or(true, |v| v != "true");
    let state = Arc::new(Mutex::new(Shown {
        live,
        last: Duration::ZERO,
        any: false,
    }));
    let shown = state.clone();
    let progress = Progress(Arc::new(move |status: &WaitStatus| {
        let Ok(mut shown) = shown.lock() else {
            return;
        };
        let mut err = std::io::stderr().lock();
        if shown.live {
            let _ = write!(err, "\r\x1b[2K{}", line(status));
            shown.any = true;
        } else if status.elapsed >= shown.last + EVERY {
            shown.last = status.elapsed;
            let _ = writeln!(err, "{}", line(status));
        }
        let _ = err.flush();
    }));
    (progress, Finish(state))
}

struct Shown {
    live: bool,
    last: Duration,
    any: bool,
}

/// Ends a live line once the wait is over.
pub(crate) struct Finish(Arc<Mutex<Shown>>);

impl Finish {
    pub(crate) fn done(&self) {
        if let Ok(shown) = self.0.lock()
            && shown.live
            && shown.any
        {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_who_caught_up_and_who_lags() {
        let status = WaitStatus {
            what: "the chassis (hv_cfg)",
            caught_up: vec!["hv1".into()],
            lagging: vec!["gw1".into(), "hv2 (not in the Southbound database)".into()],
            elapsed: Duration::from_millis(6400),
        };
        assert_eq!(
            line(&status),
            "waiting for the chassis (hv_cfg) (6 s); caught up: hv1; waiting for: gw1, hv2 (not in \
             the Southbound database)"
        );
    }
}
