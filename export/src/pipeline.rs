//! Ordered parallel work with bounded memory.
//!
//! The calling thread produces tasks in input order (cheap for native
//! files: a list of blocks; for ft files and stdin it reads and decodes the
//! stream, which is sequential by nature) and hands them to `threads`
//! workers, which decode, filter and encode them. Results come back out of
//! order and are consumed strictly in task order by the calling thread,
//! which writes them. At most `window` tasks are in flight (queued, being
//! worked on, or finished but waiting for an earlier one), so memory is
//! bounded by `window` tasks' worth of records and encoded output, whatever
//! the input size.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

/// The workers stopped before delivering every result (one panicked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkersGone;

impl std::fmt::Display for WorkersGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("worker threads stopped unexpectedly")
    }
}

impl std::error::Error for WorkersGone {}

/// Runs `work` over the tasks of `produce` on `threads` workers and feeds
/// the results, in task order, to `consume`. Stops at the first error of
/// any of the three and returns it (workers finish their current task and
/// exit; results not yet consumed are dropped).
pub fn run_ordered<T, R, E, P, W, C>(
    threads: usize,
    window: usize,
    mut produce: P,
    work: W,
    mut consume: C,
) -> Result<(), E>
where
    T: Send,
    R: Send,
    E: Send + From<WorkersGone>,
    P: FnMut() -> Result<Option<T>, E>,
    W: Fn(T) -> Result<R, E> + Sync,
    C: FnMut(R) -> Result<(), E>,
{
    let threads = threads.max(1);
    let window = window.max(threads);
    let abort = AtomicBool::new(false);
    let (task_tx, task_rx) = mpsc::channel::<(u64, T)>();
    let task_rx = Arc::new(Mutex::new(task_rx));
    let (res_tx, res_rx) = mpsc::channel::<(u64, Result<R, E>)>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let task_rx = task_rx.clone();
            let res_tx = res_tx.clone();
            let (work, abort) = (&work, &abort);
            s.spawn(move || loop {
                let next = match task_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, task)) = next else { return };
                if abort.load(Ordering::Relaxed) {
                    return;
                }
                if res_tx.send((seq, work(task))).is_err() {
                    return;
                }
            });
        }
        drop(res_tx);
        let result = (|| {
            let mut next_seq = 0u64;
            let mut want = 0u64;
            let mut done = false;
            let mut ready: BTreeMap<u64, Result<R, E>> = BTreeMap::new();
            loop {
                while !done && next_seq - want < window as u64 {
                    match produce()? {
                        Some(t) => {
                            // Workers outlive the sender; a send cannot fail
                            // while this scope holds the receiver.
                            let _ = task_tx.send((next_seq, t));
                            next_seq += 1;
                        }
                        None => done = true,
                    }
                }
                if done && want == next_seq {
                    return Ok(());
                }
                while !ready.contains_key(&want) {
                    match res_rx.recv() {
                        Ok((seq, r)) => {
                            ready.insert(seq, r);
                        }
                        // Every worker has gone: only after a panic.
                        Err(_) => return Err(WorkersGone.into()),
                    }
                }
                while let Some(r) = ready.remove(&want) {
                    want += 1;
                    consume(r?)?;
                }
            }
        })();
        if result.is_err() {
            abort.store(true, Ordering::Relaxed);
        }
        drop(task_tx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct TestError(String);
    impl From<WorkersGone> for TestError {
        fn from(_: WorkersGone) -> Self {
            TestError("gone".into())
        }
    }

    #[test]
    fn results_come_in_task_order_whatever_the_finishing_order() {
        let mut n = 0u64;
        let mut got = Vec::new();
        run_ordered::<u64, u64, TestError, _, _, _>(
            4,
            8,
            || {
                n += 1;
                Ok((n <= 200).then_some(n))
            },
            |t| {
                std::thread::sleep(std::time::Duration::from_micros((t * 7919) % 500));
                Ok(t * 2)
            },
            |r| {
                got.push(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got, (1..=200).map(|t| t * 2).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_stops_the_run() {
        let mut n = 0u64;
        let mut consumed = 0;
        let r = run_ordered::<u64, u64, TestError, _, _, _>(
            2,
            4,
            || {
                n += 1;
                Ok((n <= 1000).then_some(n))
            },
            |t| {
                if t == 10 {
                    Err(TestError(format!("task {t}")))
                } else {
                    Ok(t)
                }
            },
            |_| {
                consumed += 1;
                Ok(())
            },
        );
        assert_eq!(r, Err(TestError("task 10".to_string())));
        assert_eq!(consumed, 9);
        assert!(n < 20, "producer stopped early, at {n}");
    }

    #[test]
    fn a_consumer_error_is_returned() {
        let mut n = 0u64;
        let r = run_ordered::<u64, u64, TestError, _, _, _>(
            2,
            4,
            || {
                n += 1;
                Ok((n <= 50).then_some(n))
            },
            Ok,
            |x| {
                if x == 3 {
                    Err(TestError("disk full".into()))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r, Err(TestError("disk full".to_string())));
    }
}
