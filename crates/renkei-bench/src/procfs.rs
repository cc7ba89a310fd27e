//! CPU time and memory of processes, and of the machine, read from Linux's `/proc`.

use std::time::Instant;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// A process's CPU time (user + system) at an instant.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    at: Instant,
    ticks: u64,
}

impl CpuSample {
    /// Reads `/proc/<pid>/stat` (utime + stime).
    pub fn of(pid: u32) -> Option<CpuSample> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may contain spaces:
        // state is field 3, utime field 14, stime field 15.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some(CpuSample {
            at: Instant::now(),
            ticks: utime + stime,
        })
    }

    /// The CPU time of every process whose command name is `comm` (e.g. `postgres`), summed.
    pub fn of_command(comm: &str) -> Option<CpuSample> {
        let mut ticks = 0;
        let mut found = false;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if name.trim_end() == comm
                && let Some(sample) = CpuSample::of(pid)
            {
                ticks += sample.ticks;
                found = true;
            }
        }
        found.then(|| CpuSample {
            at: Instant::now(),
            ticks,
        })
    }

    /// CPU used between `self` and `later`, as percent of one core.
    pub fn percent_until(&self, later: &CpuSample) -> f64 {
        let secs = later.at.duration_since(self.at).as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        later.ticks.saturating_sub(self.ticks) as f64 / TICKS_PER_SECOND / secs * 100.0
    }
}

/// The whole machine's busy and total time (`/proc/stat`, all cores).
#[derive(Debug, Clone, Copy)]
pub struct MachineSample {
    busy: u64,
    total: u64,
}

impl MachineSample {
    pub fn now() -> Option<MachineSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().next()?.strip_prefix("cpu ")?;
        let v: Vec<u64> = line
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest times are inside user).
        let total: u64 = v.iter().take(8).sum();
        let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
        Some(MachineSample {
            busy: total - idle,
            total,
        })
    }

    /// Busy share of all cores between `self` and `later`, in percent of one core.
    pub fn percent_until(&self, later: &MachineSample, cores: usize) -> f64 {
        let total = later.total.saturating_sub(self.total);
        if total == 0 {
            return 0.0;
        }
        later.busy.saturating_sub(self.busy) as f64 / total as f64 * 100.0 * cores as f64
    }
}

/// A process's resident memory now and its peak, in KiB (`VmRSS`, `VmHWM`).
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Cores the machine has.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
