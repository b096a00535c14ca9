//! The scanner's worker pool, whose threads are joined when the scanner is dropped.
//!
//! Dropping a rayon `ThreadPool` only tells its threads to exit; they finish in their own time.
//! An embedder that frees a scanner and then unloads the library (a C host calling `dlclose`)
//! must not have layerleak code still running, and a leak checker at process exit would count
//! the threads' blocks as possibly lost. So the pool's threads are spawned here, their handles
//! kept, and dropping [`Workers`] joins them. No scan can be running then: every scan borrows
//! the scanner.

use std::ops::Deref;
use std::thread::JoinHandle;

/// A rayon pool that joins its threads on drop.
pub(crate) struct Workers {
    pool: Option<rayon::ThreadPool>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `threads` workers (0: one per core) named `layerleak-<i>`.
    pub(crate) fn new(threads: usize) -> Result<Workers, rayon::ThreadPoolBuildError> {
        let mut handles = Vec::new();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("layerleak-{i}"))
            .spawn_handler(|thread| {
                let mut b = std::thread::Builder::new();
                if let Some(name) = thread.name() {
                    b = b.name(name.to_string());
                }
                if let Some(size) = thread.stack_size() {
                    b = b.stack_size(size);
                }
                handles.push(b.spawn(|| thread.run())?);
                Ok(())
            })
            .build()?;
        Ok(Workers { pool: Some(pool), threads: handles })
    }
}

impl Deref for Workers {
    type Target = rayon::ThreadPool;

    fn deref(&self) -> &rayon::ThreadPool {
        // `pool` is only taken by `drop`.
        self.pool.as_ref().expect("the pool lives until the workers are dropped")
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let Some(pool) = self.pool.take() else { return };
        // Dropped on one of its own threads (a callback holding the last reference): joining
        // would wait for this very thread, so the threads are left to exit on their own.
        let own_thread = pool.current_thread_index().is_some();
        drop(pool);
        if own_thread {
            return;
        }
        for t in self.threads.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Weak};

    use super::*;

    #[test]
    fn dropping_the_workers_joins_every_thread() {
        let workers = Workers::new(3).unwrap();
        assert_eq!(workers.current_num_threads(), 3);
        assert_eq!(workers.install(rayon::current_num_threads), 3);
        // A thread-local on every worker: it is destroyed only when that thread ends.
        thread_local!(static MARK: Arc<()> = Arc::new(()));
        let probes: Vec<Weak<()>> = workers.broadcast(|_| MARK.with(Arc::downgrade));
        assert_eq!(probes.len(), 3);
        assert!(probes.iter().all(|p| p.upgrade().is_some()));
        drop(workers);
        assert!(probes.iter().all(|p| p.upgrade().is_none()), "a worker thread outlived the drop");
    }
}
