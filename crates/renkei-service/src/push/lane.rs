//! The push lane: a small runtime of its own, on threads that yield the CPU to chat.
//!
//! Why: at the benchmark's load a push costs more CPU than the chat message it announces
//! (two P-256 operations, AES-GCM, an HTTP request), and it has a quarter of a second to
//! spare where chat has milliseconds. On the server's runtime the pushes queue beside the
//! socket writes and chat's p99 grows with them. On their own threads under Linux's
//! `SCHED_IDLE` policy, a chat thread that wakes up takes the CPU from a push at once, and the
//! pushes take what chat leaves (they are not starved: the scheduler still gives them a small
//! share under full load). A niced thread is not enough: measured with a nice value 10 above
//! the server's, chat's p99 still grew by a quarter at 1,800 pushes/s, since a waking thread
//! may wait out the niced thread's slice. Where `SCHED_IDLE` is refused, the threads fall
//! back to a nice value [`NICE_STEP`] above the process's. Database work stays on the main
//! runtime, where its connections live ([`Lane::main`]).
//!
//! The runtime is owned by a plain thread (a runtime cannot be dropped inside another's
//! task); it shuts down when the last [`Lane`] handle is dropped.

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use tokio::runtime::{Builder, Handle};
use tokio::task::JoinHandle;

/// Worker threads of the lane.
const THREADS: usize = 2;
/// How much nicer than the process the lane's threads are (capped at 19, the nicest).
pub const NICE_STEP: i32 = 10;

/// A handle to the lane; clones share it.
#[derive(Clone)]
pub struct Lane {
    lane: Handle,
    main: Handle,
    _alive: Arc<std_mpsc::SyncSender<()>>,
}

impl Lane {
    /// Starts the lane; must be called inside the main runtime.
    pub fn start() -> std::io::Result<Lane> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(THREADS)
            .thread_name("renkei-push")
            .on_thread_start(lower_this_threads_priority)
            .enable_all()
            .build()?;
        let lane = runtime.handle().clone();
        let (alive, dropped) = std_mpsc::sync_channel::<()>(0);
        std::thread::Builder::new()
            .name("renkei-push-owner".into())
            .spawn(move || {
                // Returns when every sender (every Lane clone) is gone.
                let _ = dropped.recv();
                runtime.shutdown_background();
            })?;
        Ok(Lane {
            lane,
            main: Handle::current(),
            _alive: Arc::new(alive),
        })
    }

    /// Runs `work` on the lane.
    pub fn spawn<F>(&self, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.lane.spawn(work)
    }

    /// The main runtime, for work on the database.
    pub fn main(&self) -> &Handle {
        &self.main
    }
}

/// Puts the calling thread under `SCHED_IDLE`, or else raises its nice value by
/// [`NICE_STEP`] (Linux sets both per thread).
#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // SAFETY: plain system calls on the calling thread (pid 0) and its own id; the parameter
    // lives on the stack for the call.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 {
            return;
        }
        let tid = libc::gettid() as libc::id_t;
        *libc::__errno_location() = 0;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        if now == -1 && *libc::__errno_location() != 0 {
            return;
        }
        let nicer = (now + NICE_STEP).min(19);
        if libc::setpriority(libc::PRIO_PROCESS, tid, nicer) != 0 {
            tracing::debug!("the push lane could not lower its priority");
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    fn nice_of_this_thread() -> i32 {
        // SAFETY: as above.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[tokio::test]
    async fn work_runs_on_the_lane_and_the_main_runtime_stays_reachable() {
        let lane = Lane::start().unwrap();
        let main_id = Handle::current().id();
        let main = lane.main().clone();
        let (on_lane, back_on_main) = lane
            .spawn(async move {
                let here = Handle::current().id();
                let there = main.spawn(async { Handle::current().id() }).await.unwrap();
                (here, there)
            })
            .await
            .unwrap();
        assert_ne!(on_lane, main_id);
        assert_eq!(back_on_main, main_id);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_lanes_threads_yield_to_the_callers() {
        // SAFETY: reads the calling thread's policy.
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let (ours, our_nice) = (policy(), nice_of_this_thread());
        let lane = Lane::start().unwrap();
        let (theirs, their_nice) = lane
            .spawn(async move { (policy(), nice_of_this_thread()) })
            .await
            .unwrap();
        assert_eq!(ours, libc::SCHED_OTHER);
        assert!(
            theirs == libc::SCHED_IDLE || their_nice == (our_nice + NICE_STEP).min(19),
            "policy {theirs}, nice {their_nice}"
        );
    }
}
