//! Benchmark: load and validate the whole connector corpus (release build), against a baseline
//! measured in the same run: reading the same files and parsing them with `serde_json` alone.
//!
//! Run: `cargo bench -p patchbay-spec --bench corpus` (set `PATCHBAY_CORPUS` to use another corpus).
//! Prints connectors per second, the ratio to the baseline, and the process's peak memory.

use patchbay_spec::check_path;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;

fn corpus() -> PathBuf {
    let dir = std::env::var_os("PATCHBAY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/connectors"));
    assert!(dir.is_dir(), "the connector corpus is not at {} (set PATCHBAY_CORPUS)", dir.display());
    dir
}

fn packages(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("corpus readable")
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|top| std::fs::read_dir(top.path()).expect("readable").flatten().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Baseline: read each package's JSON files and parse them with serde_json (strict; failures count too).
fn baseline(pkgs: &[PathBuf]) -> usize {
    let mut parsed = 0;
    for pkg in pkgs {
        for entry in std::fs::read_dir(pkg).expect("readable").flatten() {
            if entry.path().extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(entry.path()).expect("readable");
                parsed += usize::from(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
            }
        }
    }
    parsed
}

/// patchbay: load (tolerant reader, model, refs) and validate every package, one thread.
fn load_and_validate(pkgs: &[PathBuf]) -> usize {
    pkgs.iter().filter(|p| check_path(p, false).connector.is_some()).count()
}

/// The same on every core, as `patchbay connector validate` does.
fn load_and_validate_parallel(pkgs: &[PathBuf]) -> usize {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = pkgs.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = pkgs.chunks(chunk.max(1)).map(|c| s.spawn(|| load_and_validate(c))).collect();
        handles.into_iter().map(|h| h.join().expect("worker")).sum()
    })
}

fn median(f: impl Fn() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut result = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        result = std::hint::black_box(f());
        times.push(start.elapsed());
    }
    times.sort();
    (times[ROUNDS / 2], result)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    let pkgs = packages(&corpus());
    let n = pkgs.len() as f64;
    let (base, _) = median(|| baseline(&pkgs));
    let (one, loaded) = median(|| load_and_validate(&pkgs));
    let (all, _) = median(|| load_and_validate_parallel(&pkgs));
    println!("corpus: {} packages, {loaded} load; median of {ROUNDS} rounds", pkgs.len());
    let row = |name: &str, d: Duration| {
        let ratio = d.as_secs_f64() / base.as_secs_f64();
        println!(
            "{name:<44} {:>8.1} ms {:>9.0} connectors/s {ratio:>6.2}x baseline time",
            d.as_secs_f64() * 1e3,
            n / d.as_secs_f64()
        );
    };
    row("baseline: read + serde_json::from_slice", base);
    row("patchbay: load + validate, 1 thread", one);
    row("patchbay: load + validate, all cores", all);
    println!("peak RSS of this process: {:.1} MB", peak_rss_mb());
}
