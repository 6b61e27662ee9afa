//! A `patchbay serve` child process for tests that need a real process: one that can be killed
//! with SIGKILL in the middle of its work and started again on the same data.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `patchbay serve`.
pub struct Node {
    /// The process.
    pub child: Child,
    /// Its base URL, as it printed it.
    pub url: String,
    /// The admin token it printed on a first start.
    pub token: Option<String>,
}

impl Node {
    /// Starts `patchbay serve` with `args` (plus `--listen 127.0.0.1:0`) and the environment
    /// `envs`; waits until it prints where it listens (and, on a `first_start`, the admin token).
    pub fn start(args: &[&str], envs: &[(&str, &str)], first_start: bool) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_patchbay"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log", "warn"])
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("patchbay serve starts");
        let stdout = child.stdout.take().expect("its standard output");
        let (lines, received) = mpsc::channel();
        // Keep reading, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let next =
            || received.recv_timeout(Duration::from_secs(60)).expect("patchbay serve prints its address");
        let url = loop {
            if let Some(rest) = next().strip_prefix("patchbay listening on ") {
                break rest.trim().to_owned();
            }
        };
        // A first start on an empty store announces the admin's token on the next two lines.
        let token = first_start.then(|| {
            assert!(next().starts_with("first start:"), "a first start announces the admin");
            next().trim().to_owned()
        });
        Node { child, url, token }
    }

    /// SIGKILL: no shutdown, no flush, nothing finishes.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
