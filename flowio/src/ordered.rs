//! The ordered parallel scan: records in input order, with bounded memory.
//!
//! [`scan_ordered`] turns the inputs into tasks on the calling thread, in
//! input order: runs of native blocks adding up to about one task's rows
//! (decoded later, by a worker), or records read from an ft file or stream
//! (which only one thread can decompress). Workers decode, apply the time
//! window and the selection, and hand the records to a [`Work`]; the
//! calling thread consumes the finished tasks strictly in task order, so
//! the output order is the input order (flow-cat's) whatever the thread
//! count. At most `in_flight` tasks exist at once (queued, being worked
//! on, or finished but waiting for an earlier one), so memory is bounded
//! by that many tasks' records and results, whatever the input size.
//!
//! [`run_ordered`] is the machinery underneath, for any task type.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use formats::native::{BlockInfo, Fields};
use formats::Record;

use crate::input::{self, Input, RecordSource, Window};
use crate::{Skipped, Warning, Warnings};

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

/// What the workers of [`scan_ordered`] make of the records of one task.
pub trait Work: Sync {
    /// A task's result while it is being built.
    type Partial;
    /// A finished task, handed to the consumer in task order.
    type Output: Send;
    /// What can go wrong; reading errors of a stream become one.
    type Error: Send + From<crate::Error> + From<WorkersGone>;
    /// An empty result for a new task.
    fn start(&self) -> Self::Partial;
    /// Adds records (already inside the window and selected), in input
    /// order; called once or more per task.
    fn add(&self, partial: &mut Self::Partial, records: &[Record]) -> Result<(), Self::Error>;
    /// Finishes a task (on the worker thread).
    fn finish(&self, partial: Self::Partial) -> Result<Self::Output, Self::Error>;
}

/// What [`scan_ordered`] reads.
pub struct Ordered<'a> {
    /// The inputs, in the order their records are wanted.
    pub inputs: &'a [Input],
    /// A stream read after the inputs (standard input), whose read errors
    /// end the scan.
    pub stream: Option<Box<dyn RecordSource>>,
    /// The time window.
    pub window: Window,
    /// The selection, as a batch filter.
    pub keep: &'a (dyn Fn(&mut Vec<Record>) + Sync),
    /// The record fields `keep` and the work read (native blocks decode
    /// only these; the window's time fields are added).
    pub fields: Fields,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// About how many records one task holds.
    pub task_rows: usize,
    /// How many tasks may exist at once (at least `threads`).
    pub in_flight: usize,
    /// Where problems with single inputs go.
    pub warnings: &'a Warnings,
}

/// A piece of work, in input order.
enum Task {
    /// Native blocks to decode: (input index, block).
    Blocks(Vec<(usize, BlockInfo)>),
    /// Records already read from an ft file or stream.
    Records(Vec<Record>),
}

enum Current {
    Idle,
    Native {
        input: usize,
        next_block: usize,
    },
    Stream {
        input: Option<usize>,
        src: Box<dyn RecordSource>,
    },
}

/// Turns the inputs into tasks, in input order.
struct Producer<'a> {
    inputs: &'a [Input],
    window: Window,
    task_rows: usize,
    next_input: usize,
    current: Current,
    stream: Option<Box<dyn RecordSource>>,
    pending: Vec<(usize, BlockInfo)>,
    pending_rows: usize,
    warnings: &'a Warnings,
}

impl Producer<'_> {
    fn take_pending(&mut self) -> Option<Task> {
        if self.pending.is_empty() {
            return None;
        }
        self.pending_rows = 0;
        Some(Task::Blocks(std::mem::take(&mut self.pending)))
    }

    fn next_task(&mut self) -> Result<Option<Task>, crate::Error> {
        loop {
            match &mut self.current {
                Current::Native { input, next_block } => {
                    let i = *input;
                    let Some(nf) = self.inputs[i].native.as_ref() else {
                        self.current = Current::Idle;
                        continue;
                    };
                    let blocks = nf.blocks();
                    while *next_block < blocks.len() {
                        let b = blocks[*next_block];
                        *next_block += 1;
                        if self.window.may_hold(&b) {
                            self.pending.push((i, b));
                            self.pending_rows += b.records as usize;
                            if self.pending_rows >= self.task_rows {
                                return Ok(self.take_pending());
                            }
                        }
                    }
                    // Blocks of the next file may join this task.
                    self.current = Current::Idle;
                }
                Current::Stream { input, src } => {
                    // Blocks read before this stream go first.
                    if !self.pending.is_empty() {
                        return Ok(self.take_pending());
                    }
                    let mut recs = Vec::with_capacity(self.task_rows.min(1 << 20));
                    let mut ended = false;
                    while recs.len() < self.task_rows {
                        match src.next_batch(&mut recs) {
                            Ok(0) => {
                                ended = true;
                                break;
                            }
                            Ok(_) => {}
                            Err(e) => match input {
                                // A damaged file: warn, keep what was read, go on.
                                Some(i) => {
                                    let w = Warning::new(
                                        self.inputs[*i].display.as_str(),
                                        e,
                                        Skipped::Rest,
                                    );
                                    self.warnings.push(w.at(*i));
                                    ended = true;
                                    break;
                                }
                                None => return Err(e),
                            },
                        }
                    }
                    if ended {
                        self.current = Current::Idle;
                    }
                    if !recs.is_empty() {
                        return Ok(Some(Task::Records(recs)));
                    }
                }
                Current::Idle => {
                    let Some(inp) = self.inputs.get(self.next_input) else {
                        if let Some(src) = self.stream.take() {
                            self.current = Current::Stream { input: None, src };
                            continue;
                        }
                        return Ok(self.take_pending());
                    };
                    let i = self.next_input;
                    self.next_input += 1;
                    if !self.window.may_hold_file(&inp.header) {
                        continue;
                    }
                    if inp.native.is_some() {
                        self.current = Current::Native {
                            input: i,
                            next_block: 0,
                        };
                        continue;
                    }
                    match input::open(inp, self.warnings) {
                        Ok(src) => {
                            self.current = Current::Stream {
                                input: Some(i),
                                src,
                            }
                        }
                        Err(e) => self
                            .warnings
                            .push(Warning::new(inp.display.as_str(), e, Skipped::File).at(i)),
                    }
                }
            }
        }
    }
}

/// Runs `work` over the records of `scan`, on `scan.threads` workers, and
/// hands the finished tasks to `consume` in input order. Stops at the
/// first error of a worker, of the consumer, or of reading the stream.
pub fn scan_ordered<W: Work>(
    scan: Ordered<'_>,
    work: &W,
    consume: impl FnMut(W::Output) -> Result<(), W::Error>,
) -> Result<(), W::Error> {
    let threads = match scan.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let window = scan.window;
    let fields = if window.is_open() {
        scan.fields
    } else {
        scan.fields | Fields::TIMES
    };
    let (inputs, keep, warnings) = (scan.inputs, scan.keep, scan.warnings);
    let mut producer = Producer {
        inputs,
        window,
        task_rows: scan.task_rows.max(1),
        next_input: 0,
        current: Current::Idle,
        stream: scan.stream,
        pending: Vec::new(),
        pending_rows: 0,
        warnings,
    };
    let select = |recs: &mut Vec<Record>| {
        if !window.is_open() {
            recs.retain(|r| window.contains(r));
        }
        keep(recs);
    };
    let run = |task: Task| -> Result<W::Output, W::Error> {
        let mut partial = work.start();
        match task {
            Task::Blocks(blocks) => {
                let mut buf = Vec::with_capacity(formats::native::DEFAULT_BLOCK_RECORDS);
                for (i, b) in blocks {
                    let inp = &inputs[i];
                    let Some(nf) = inp.native.as_ref() else {
                        continue;
                    };
                    buf.clear();
                    let decoded = nf.decode_block_fields(&b, &mut buf, fields);
                    input::release_block(nf.bytes(), &b);
                    if let Err(e) = decoded {
                        let skipped = Skipped::Block { records: b.records };
                        warnings.push(Warning::new(inp.display.as_str(), e, skipped).at(i));
                        continue;
                    }
                    select(&mut buf);
                    if !buf.is_empty() {
                        work.add(&mut partial, &buf)?;
                    }
                }
            }
            Task::Records(mut recs) => {
                select(&mut recs);
                if !recs.is_empty() {
                    work.add(&mut partial, &recs)?;
                }
            }
        }
        work.finish(partial)
    };
    run_ordered(
        threads,
        scan.in_flight,
        || producer.next_task().map_err(W::Error::from),
        run,
        consume,
    )
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
