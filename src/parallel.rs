//! Work on several threads, results in order.
//!
//! An apply from an empty database waits on this process before and after its transaction,
//! and the machine has a second core: the YAML parts (`spec::split`), the plan's pieces
//! (`diff::plan`) and the halves of a large update (`ovsdb::monitor`) are jobs run here.
//! Std's scoped threads, no pool: each call starts its threads and ends them.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `job(0)`, …, `job(jobs - 1)` on this thread and `threads - 1` more, each thread taking the
/// next job left; the results in job order. A panic in a job is this call's panic.
pub(crate) fn on_threads<T: Send>(
    threads: usize,
    jobs: usize,
    job: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= jobs {
                return done;
            }
            done.push((i, job(i)));
        }
    };
    let mut done = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads.min(jobs)).map(|_| s.spawn(work)).collect();
        let mut done = work();
        for other in others {
            done.extend(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        done
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// `job(range)` for `pieces` consecutive ranges covering `0..len` (of about as many items
/// each), on this thread and `threads - 1` more; the results in the ranges' order.
pub(crate) fn ranges_on_threads<T: Send>(
    threads: usize,
    len: usize,
    pieces: usize,
    job: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> Vec<T> {
    on_threads(threads, pieces, |p| {
        job(len * p / pieces..len * (p + 1) / pieces)
    })
}

/// `job(part)` for each of `parts` on this thread and `threads - 1` more, each part moved
/// into its job; the results in the parts' order.
pub(crate) fn each_on_threads<T: Send, R: Send>(
    threads: usize,
    parts: Vec<T>,
    job: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    // Each slot is taken by the one job of its index.
    let slots: Vec<std::sync::Mutex<Option<T>>> = parts
        .into_iter()
        .map(|p| std::sync::Mutex::new(Some(p)))
        .collect();
    on_threads(threads, slots.len(), |i| {
        let part = slots[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        part.map(&job)
    })
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_runs_once_and_results_come_in_order() {
        for threads in [1, 2, 3, 8] {
            for jobs in [0, 1, 2, 7] {
                assert_eq!(
                    on_threads(threads, jobs, |i| i * 10),
                    (0..jobs).map(|i| i * 10).collect::<Vec<_>>(),
                    "{threads} threads, {jobs} jobs"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "job 3")]
    fn a_panic_in_a_job_is_the_callers() {
        on_threads(2, 6, |i| assert!(i != 3, "job 3"));
    }

    #[test]
    fn each_part_is_moved_into_one_job_and_results_come_in_order() {
        for threads in [1, 2, 3] {
            let parts: Vec<Vec<usize>> = (0..5).map(|i| vec![i; i]).collect();
            assert_eq!(
                each_on_threads(threads, parts, |p| p.len() * 10),
                vec![0, 10, 20, 30, 40],
                "{threads} threads"
            );
        }
    }

    #[test]
    fn ranges_cover_the_length_once_in_order() {
        for (len, pieces) in [(0, 3), (5, 8), (100, 8), (7, 1)] {
            let ranges = ranges_on_threads(2, len, pieces, |r| r);
            assert_eq!(ranges.len(), pieces);
            let covered: Vec<usize> = ranges.into_iter().flatten().collect();
            assert_eq!(covered, (0..len).collect::<Vec<_>>(), "{len} in {pieces}");
        }
    }
}
