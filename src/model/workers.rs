//! How the independent parts of one computation run: [`Workers`] says how many may run at once and which
//! [`Runner`] runs them. The pure core splits per-beat work into contiguous chunks ([`chunk_ranges`]) and hands
//! them to the runner, but never starts a thread itself (ARCHITECTURE.md, "Rules"): an edge that may (the
//! command line) supplies a runner on named threads. Each item is computed by the same code on the same input
//! whatever the chunking, and the chunks' results are joined in order, so the output does not depend on the
//! number of workers.

use std::num::NonZeroUsize;
use std::ops::Range;

/// Fewest samples of a pass over a whole channel (a filter, a check) worth a thread of their own: about a
/// millisecond of work, where starting and joining a thread takes 20-130 us.
pub const MIN_SAMPLES_PER_THREAD: usize = 1 << 16;

/// Runs tasks, possibly at once.
pub trait Runner: Sync {
    /// Runs every task and returns when all have finished.
    fn run_all<'a>(&self, tasks: Vec<Box<dyn FnOnce() + Send + 'a>>);
}

/// Runs tasks one after another on the caller's thread.
pub struct InOrder;

impl Runner for InOrder {
    fn run_all<'a>(&self, tasks: Vec<Box<dyn FnOnce() + Send + 'a>>) {
        for task in tasks {
            task();
        }
    }
}

/// How many parts of a computation may run at once, and the runner that runs them.
#[derive(Clone, Copy)]
pub struct Workers {
    count: NonZeroUsize,
    runner: &'static dyn Runner,
}

impl Workers {
    /// One part at a time on the caller's thread (the default: the live monitor, the case writer, the review).
    pub const ONE: Workers = Workers {
        count: NonZeroUsize::MIN,
        runner: &InOrder,
    };

    /// Up to `count` parts at once, run by `runner`.
    pub fn new(count: NonZeroUsize, runner: &'static dyn Runner) -> Workers {
        Workers { count, runner }
    }

    /// How many parts may run at once.
    pub fn count(&self) -> NonZeroUsize {
        self.count
    }

    /// `part` applied to contiguous ranges of `0..len` of at least `min_chunk` items (one range when `len` is
    /// smaller than two of them: small work does not pay for threads), the results joined in order.
    pub fn map_chunks<R: Send>(
        &self,
        len: usize,
        min_chunk: usize,
        part: impl Fn(Range<usize>) -> Vec<R> + Sync,
    ) -> Vec<R> {
        let ranges = chunk_ranges(len, self.count.get(), min_chunk);
        if ranges.len() <= 1 {
            return part(0..len);
        }
        let mut outputs: Vec<Vec<R>> = ranges.iter().map(|_| Vec::new()).collect();
        let part = &part;
        let tasks: Vec<Box<dyn FnOnce() + Send + '_>> = outputs
            .iter_mut()
            .zip(ranges)
            .map(|(output, range)| Box::new(move || *output = part(range)) as Box<dyn FnOnce() + Send + '_>)
            .collect();
        self.runner.run_all(tasks);
        outputs.into_iter().flatten().collect()
    }

    /// Runs `tasks` (at most [`Workers::count`] of them, as the caller cut its work) on the runner, a single
    /// one on the caller's thread: for parts that write into disjoint pieces of one output (`split_at_mut`)
    /// rather than return vectors to be joined.
    pub fn run_all<'a>(&self, mut tasks: Vec<Box<dyn FnOnce() + Send + 'a>>) {
        match tasks.len() {
            0 => {}
            1 => tasks.remove(0)(),
            _ => self.runner.run_all(tasks),
        }
    }
}

impl Default for Workers {
    fn default() -> Workers {
        Workers::ONE
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").field("count", &self.count).finish()
    }
}

/// Equal when they allow the same number of parts at once (the runner changes where parts run, not results).
impl PartialEq for Workers {
    fn eq(&self, other: &Workers) -> bool {
        self.count == other.count
    }
}

/// `0..len` cut into at most `parts` contiguous, non-empty ranges of at least `min_chunk` items each (as many
/// as that allows, sizes differing by at most one), in order; none when `len` is 0.
pub fn chunk_ranges(len: usize, parts: usize, min_chunk: usize) -> Vec<Range<usize>> {
    let num = parts.min(len / min_chunk.max(1)).max(1).min(len);
    let (size, longer) = (len / num.max(1), len % num.max(1));
    let mut start = 0;
    (0..num)
        .map(|k| {
            let end = start + size + usize::from(k < longer);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_in_order_for_every_count_and_length() {
        for len in 0..200 {
            for parts in 1..10 {
                for min_chunk in [0, 1, 3, 64] {
                    let ranges = chunk_ranges(len, parts, min_chunk);
                    let items: Vec<usize> = ranges.iter().cloned().flatten().collect();
                    assert_eq!(items, (0..len).collect::<Vec<_>>(), "{len} {parts} {min_chunk}");
                    assert!(ranges.len() <= parts && ranges.iter().all(|r| !r.is_empty()));
                    if ranges.len() > 1 {
                        assert!(
                            ranges.iter().all(|r| r.len() >= min_chunk),
                            "{len} {parts} {min_chunk}"
                        );
                    }
                    let (shortest, longest) = (
                        ranges.iter().map(|r| r.len()).min().unwrap_or(0),
                        ranges.iter().map(|r| r.len()).max().unwrap_or(0),
                    );
                    assert!(longest - shortest <= 1);
                    // As many ranges as the minimum size allows: one more would be too short.
                    assert!(
                        ranges.len() == parts.min(len) || (ranges.len() + 1) * min_chunk.max(1) > len,
                        "{len} {parts} {min_chunk}"
                    );
                }
            }
        }
    }

    /// Runs the tasks in reverse order, so a result joined by finishing order rather than by range would show.
    struct Backwards;

    impl Runner for Backwards {
        fn run_all<'a>(&self, tasks: Vec<Box<dyn FnOnce() + Send + 'a>>) {
            for task in tasks.into_iter().rev() {
                task();
            }
        }
    }

    /// Refuses to run anything: a part handed to it fails the test.
    struct Refuses;

    impl Runner for Refuses {
        fn run_all<'a>(&self, tasks: Vec<Box<dyn FnOnce() + Send + 'a>>) {
            assert!(tasks.is_empty(), "{} parts handed to the runner", tasks.len());
        }
    }

    /// One part per flag, each setting its flag.
    fn setters(flags: &mut [bool]) -> Vec<Box<dyn FnOnce() + Send + '_>> {
        flags
            .iter_mut()
            .map(|flag| Box::new(move || *flag = true) as Box<dyn FnOnce() + Send + '_>)
            .collect()
    }

    #[test]
    fn run_all_runs_one_part_itself_and_hands_several_to_the_runner() {
        let mut done = [false; 3];
        let refuses = Workers::new(NonZeroUsize::new(4).unwrap(), &Refuses);
        refuses.run_all(setters(&mut done[..1]));
        refuses.run_all(Vec::new());
        assert_eq!(done, [true, false, false]);
        Workers::new(NonZeroUsize::new(2).unwrap(), &Backwards).run_all(setters(&mut done[1..]));
        assert_eq!(done, [true; 3]);
    }

    #[test]
    fn chunk_results_are_joined_in_order_whatever_order_they_ran_in() {
        let square = |range: Range<usize>| range.map(|k| k * k).collect::<Vec<_>>();
        let expected = square(0..1000);
        for count in 1..6 {
            let workers = Workers::new(NonZeroUsize::new(count).unwrap(), &Backwards);
            assert_eq!(workers.map_chunks(1000, 10, square), expected);
            assert_eq!(workers.map_chunks(0, 10, square), Vec::<usize>::new());
            assert_eq!(workers.map_chunks(1, 10, square), vec![0]);
        }
    }
}
