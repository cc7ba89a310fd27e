//! Measures the relay's forwarding for docs/BENCHMARKS.md (run by bench/calls.sh).
//!
//! ROOMS rooms of 6 str0m client bots (the test bots), each bot sending one video of about
//! 500 kbit/s and one audio of 32 kbit/s (canned frames, no encoding), every room on its own
//! relay thread and its bots on a thread of their own. After WARMUP seconds it measures for
//! SECONDS: the relay threads' CPU time (from /proc), the frames the bots received, and each
//! video frame's time from its sender's write to its receiver (bot to bot through the relay
//! on loopback: an upper bound on what the relay adds). Forwarded streams are sender track
//! → receiver pairs: 6 × 5 × 2 = 60 per room.
//!
//! Usage: forwarding_bench [ROOMS=4] [SECONDS=20] [WARMUP=5]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::Room;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: ROOMS SECONDS WARMUP"))
        .collect();
    let rooms = args.first().copied().unwrap_or(4) as usize;
    let seconds = args.get(1).copied().unwrap_or(20);
    let warmup = args.get(2).copied().unwrap_or(5);

    // A room thread that fails must end the run, not leave the others waiting at a barrier.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        std::process::exit(1);
    }));

    let rss_before = rss_kib();
    let ready = Arc::new(Barrier::new(rooms + 1));
    let measure = Arc::new(Barrier::new(rooms + 1));
    let threads: Vec<_> = (0..rooms)
        .map(|_| {
            let (ready, measure) = (ready.clone(), measure.clone());
            std::thread::spawn(move || {
                let mut room = Room::new(8);
                for (i, conn) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
                    room.join(conn, i as u8 + 1, false);
                    let bot = room.bot_mut(conn);
                    bot.video_bytes = 1_875; // × 33.3 frames/s ≈ 500 kbit/s
                    bot.audio_bytes = 120; // ≈ 32 kbit/s
                }
                room.run_until(Duration::from_secs(60), "the room is set up", |r| {
                    r.all_hear_all(5)
                });
                room.run_for(Duration::from_secs(warmup));
                ready.wait();
                // Count from here.
                let frames_before: usize = room.bots.iter().map(|b| b.got.len()).sum();
                let sent_before: u64 = room.bots.iter().map(|b| b.frames_sent()).sum();
                for bot in &mut room.bots {
                    bot.latencies_us.clear();
                }
                room.run_for(Duration::from_secs(seconds));
                measure.wait();
                let frames: usize =
                    room.bots.iter().map(|b| b.got.len()).sum::<usize>() - frames_before;
                // Each tick's audio and video frame should reach the 5 others.
                let expected =
                    (room.bots.iter().map(|b| b.frames_sent()).sum::<u64>() - sent_before) * 10;
                let latencies: Vec<u64> = room
                    .bots
                    .iter()
                    .flat_map(|b| b.latencies_us.iter().copied())
                    .collect();
                // Keep the room alive until every thread measured.
                (frames, expected, latencies, room)
            })
        })
        .collect();

    ready.wait();
    let rss_rooms = rss_kib();
    let cpu_before = relay_cpu_seconds();
    let started = Instant::now();
    measure.wait();
    let wall = started.elapsed().as_secs_f64();
    let cpu = relay_cpu_seconds() - cpu_before;

    let mut frames = 0;
    let mut expected = 0;
    let mut latencies = Vec::new();
    let mut kept = Vec::new();
    for t in threads {
        let (f, e, l, room) = t.join().expect("a room thread");
        frames += f;
        expected += e;
        latencies.extend(l);
        kept.push(room);
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        latencies[((latencies.len() - 1) as f64 * p) as usize] as f64 / 1000.0
    };
    let streams = rooms * 60;
    let cores = cpu / wall;
    println!(
        "rooms                      {rooms} (6 bots each, 500 kbit/s video + 32 kbit/s audio)"
    );
    println!("forwarded streams          {streams}");
    println!("measured                   {wall:.1} s");
    println!("relay CPU                  {cpu:.2} s = {cores:.3} cores");
    println!(
        "forwarded streams per core {:.0}",
        streams as f64 / cores.max(1e-9)
    );
    println!(
        "frames received            {frames} of {expected} sent to them ({:.2} %, {:.0}/s)",
        frames as f64 * 100.0 / expected.max(1) as f64,
        frames as f64 / wall
    );
    println!(
        "video frame latency        p50 {:.2} ms, p99 {:.2} ms (bot → relay → bot, {} frames)",
        pct(0.5),
        pct(0.99),
        latencies.len()
    );
    println!(
        "RSS per room               {:.0} KiB (relay and its 6 bots, in one process)",
        (rss_rooms.saturating_sub(rss_before)) as f64 / rooms as f64
    );
    drop(kept);
}

/// User + system CPU seconds of this process's threads named `renkei-sfu`.
fn relay_cpu_seconds() -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc/self/task").expect("/proc") {
        let path = entry.unwrap().path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // pid (comm) state ... field 14 utime, 15 stime; comm may hold spaces.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = &stat[stat.find('(').unwrap() + 1..close];
        if comm != "renkei-sfu" {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let utime: u64 = fields[11].parse().unwrap_or(0);
        let stime: u64 = fields[12].parse().unwrap_or(0);
        total += utime + stime;
    }
    total as f64 / ticks
}

/// Resident memory of this process, KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}
