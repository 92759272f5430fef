//! Counting the instructions a running process executes for a stretch of
//! work, the repeatable figure of the benchmark: the process runs under
//! `valgrind --tool=callgrind --instr-atstart=no` (uninstrumented, so it
//! starts at near full speed), and `callgrind_control` switches counting
//! on around the work, then dumps the count.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::ops::run::capture;
use crate::ops::tools::ensure_debian;

/// `bin` under callgrind, counting nothing until [`count`] asks; its dumps
/// go to `out_dir`.
pub fn command(bin: &Path, out_dir: &Path) -> Result<Command> {
    let valgrind = ensure_debian("valgrind", "valgrind")?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut cmd = Command::new(valgrind);
    cmd.arg("--tool=callgrind")
        .arg("--instr-atstart=no")
        .arg(format!(
            "--callgrind-out-file={}",
            out_dir.join("callgrind.out.%p").display()
        ))
        .arg(bin);
    Ok(cmd)
}

/// The instructions process `pid` (started from [`command`]) executes
/// while `work` runs, all its threads together.
pub fn count(pid: u32, out_dir: &Path, work: impl FnOnce() -> Result<()>) -> Result<u64> {
    let control = |args: &[&str]| -> Result<String> {
        capture(
            Command::new("callgrind_control")
                .args(args)
                .arg(pid.to_string()),
        )
    };
    control(&["-i", "on"])?;
    control(&["-z"])?;
    let worked = work();
    let dumped = control(&["-d"]);
    control(&["-i", "off"])?;
    worked?;
    dumped?;
    let dump = newest_dump(out_dir, pid)?;
    let text = std::fs::read_to_string(&dump)
        .with_context(|| format!("cannot read {}", dump.display()))?;
    instructions(&text).with_context(|| format!("no instruction count in {}", dump.display()))
}

/// The newest dump of `pid` in `out_dir`.
fn newest_dump(out_dir: &Path, pid: u32) -> Result<PathBuf> {
    let prefix = format!("callgrind.out.{pid}");
    let mut dumps: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(out_dir)?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    dumps.sort();
    match dumps.pop() {
        Some((_, path)) => Ok(path),
        None => bail!(
            "callgrind wrote no dump for pid {pid} in {}",
            out_dir.display()
        ),
    }
}

/// The total of a callgrind dump: its `totals:` (or older `summary:`) line.
pub fn instructions(dump: &str) -> Option<u64> {
    dump.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_read_from_either_line() {
        assert_eq!(
            instructions("events: Ir\nfn=x\n0 3\ntotals: 12345\n"),
            Some(12345)
        );
        assert_eq!(instructions("summary: 77\n"), Some(77));
        assert_eq!(instructions("events: Ir\n"), None);
    }
}
