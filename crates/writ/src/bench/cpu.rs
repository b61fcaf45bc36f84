//! The CPU time this process has used, user and system together, all threads included (those
//! that have ended too): on a shared machine a steadier figure than wall time, and the one the
//! lifecycle bench is bound by.

use std::time::Duration;

use anyhow::Context;

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// User plus system time used so far, from `/proc/self/stat` (10 ms resolution).
pub fn process_cpu() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces: the first is
    // the state (field 3), so utime (field 14) and stime (field 15) are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .context("no command name in /proc/self/stat")?;
    let ticks = |index: usize| -> anyhow::Result<u64> {
        fields
            .get(index)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("no field {} in /proc/self/stat", index + 3))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(total * 1000 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    /// Spins until the process has used `want` of CPU by its own count (or 20 s pass), so a
    /// busy machine slows the test rather than failing it; the count must also be plausible:
    /// one spinning thread cannot use much more CPU than wall time.
    #[test]
    fn cpu_time_counts_the_work_done() {
        let want = Duration::from_millis(200);
        let before = super::process_cpu().unwrap();
        let started = Instant::now();
        let mut x = 0u64;
        let mut used = Duration::ZERO;
        while used < want && started.elapsed() < Duration::from_secs(20) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            used = super::process_cpu().unwrap() - before;
        }
        assert!(
            used >= want,
            "only {used:?} counted in {:?}",
            started.elapsed()
        );
        assert!(
            used <= started.elapsed() * 2 + Duration::from_millis(20),
            "{used:?} counted in {:?}",
            started.elapsed()
        );
    }
}
