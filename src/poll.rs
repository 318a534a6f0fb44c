//! One way to wait for something another process does (ovs-vswitchd catching up, ovn-northd
//! bumping `sb_cfg`, ovn-controller publishing a mapping): ask, and ask again after a pause,
//! until it is done or a deadline passes. Every wait in topo has a deadline, and says what it
//! saw last when it gives up.

use std::future::Future;
use std::time::{Duration, Instant};

/// Calls `attempt` until it says done (`Ok(Ok(value))`), it fails (`Err`, returned at once),
/// or `timeout` has passed since the first call; between calls it sleeps `every` (less when
/// the deadline is nearer). An attempt that is not done yet says what it saw (`Ok(Err(seen))`):
/// at the deadline that last `seen` is returned as `Ok(Err(seen))`, for the caller's message.
/// The first attempt always runs, even with a zero timeout.
pub(crate) async fn poll_until<T, N, E, F, Fut>(
    timeout: Duration,
    every: Duration,
    attempt: F,
) -> Result<Result<T, N>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, N>, E>>,
{
    poll_with_backoff(timeout, every, every, attempt).await
}

/// [`poll_until`] with a growing pause: `first` after the first attempt, doubled after each
/// one up to `max`. For a server that is away (restarting, electing a leader): asked soon,
/// then less often.
pub(crate) async fn poll_with_backoff<T, N, E, F, Fut>(
    timeout: Duration,
    first: Duration,
    max: Duration,
    mut attempt: F,
) -> Result<Result<T, N>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, N>, E>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = first;
    loop {
        let seen = match attempt().await? {
            Ok(done) => return Ok(Ok(done)),
            Err(seen) => seen,
        };
        let now = Instant::now();
        if now >= deadline {
            return Ok(Err(seen));
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(max.max(first));
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    }

    #[test]
    fn done_as_soon_as_the_attempt_says_so() {
        let calls = Cell::new(0);
        let got: Result<Result<u32, u32>, ()> = runtime().block_on(poll_until(
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { Ok(if n == 3 { Ok(n) } else { Err(n) }) }
            },
        ));
        assert_eq!(got, Ok(Ok(3)));
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn at_the_deadline_the_last_seen_value_comes_back() {
        let calls = Cell::new(0);
        let got: Result<Result<(), u32>, ()> = runtime().block_on(poll_until(
            Duration::from_millis(30),
            Duration::from_millis(5),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { Ok(Err(n)) }
            },
        ));
        assert_eq!(got, Ok(Err(calls.get())));
        assert!(calls.get() >= 2, "it asked again before giving up");
    }

    #[test]
    fn the_pause_grows_up_to_its_cap() {
        let calls = Cell::new(0);
        let start = Instant::now();
        let got: Result<Result<(), ()>, ()> = runtime().block_on(poll_with_backoff(
            Duration::from_millis(70),
            Duration::from_millis(10),
            Duration::from_millis(20),
            || {
                calls.set(calls.get() + 1);
                async { Ok(Err(())) }
            },
        ));
        assert_eq!(got, Ok(Err(())));
        // Pauses 10, 20, 20, 20 (cut at the deadline): five attempts, not eight.
        assert!((4..=6).contains(&calls.get()), "{} attempts", calls.get());
        assert!(start.elapsed() >= Duration::from_millis(70));
    }

    #[test]
    fn an_error_ends_the_wait_at_once_and_a_zero_timeout_still_asks_once() {
        let got: Result<Result<(), ()>, &str> = runtime().block_on(poll_until(
            Duration::from_secs(60),
            Duration::from_secs(60),
            || async { Err("broken") },
        ));
        assert_eq!(got, Err("broken"));
        let got: Result<Result<u8, ()>, ()> =
            runtime().block_on(poll_until(Duration::ZERO, Duration::ZERO, || async {
                Ok(Ok(1))
            }));
        assert_eq!(got, Ok(Ok(1)));
    }
}
