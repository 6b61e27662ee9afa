//! `patchbay tunnel --to http://localhost:3000`: exposes a local API at a public URL on the
//! server (`{public URL}/t/{id}/…`) and shows each request as it passes.

use std::process::ExitCode;

use anyhow::Context;
use patchbay_gateway::agent::{AgentEvent, AgentOptions};
use tokio::sync::mpsc;

use crate::remote::{Target, runtime};

/// Arguments of `patchbay tunnel`.
#[derive(clap::Args)]
pub struct TunnelArgs {
    /// The local API to expose, e.g. http://localhost:3000 (only its host and port are reachable).
    #[arg(long, value_name = "URL")]
    to: String,
    #[command(flatten)]
    target: Target,
}

/// Runs the tunnel until Ctrl-C.
pub fn run(args: TunnelArgs) -> anyhow::Result<ExitCode> {
    let profile = args.target.resolve()?;
    let to = args.to.parse().with_context(|| format!("--to {:?} is not a URL", args.to))?;
    let server =
        profile.url.parse().with_context(|| format!("the server URL {:?} is not a URL", profile.url))?;
    let mut options = AgentOptions::tunnel(server, profile.token, to)?;
    let (events, mut seen) = mpsc::unbounded_channel();
    options.events = Some(events);
    let local = args.to.clone();
    runtime()?.block_on(async move {
        let agent = tokio::spawn(patchbay_gateway::agent::run(options));
        loop {
            tokio::select! {
                event = seen.recv() => match event {
                    Some(event) => show(&event, &local),
                    None => break,
                },
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        if agent.is_finished() {
            agent.await??;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Prints one event: the public URL when connected, then one line per request.
fn show(event: &AgentEvent, local: &str) {
    match event {
        AgentEvent::Connected { tunnel_url: Some(url) } => println!("forwarding {url} -> {local}"),
        AgentEvent::Connected { tunnel_url: None } => println!("connected"),
        AgentEvent::Disconnected { reason } => {
            eprintln!("disconnected ({reason}); reconnecting (the URL will change)");
        }
        AgentEvent::Carried(carried) => {
            let status = carried.status.map_or_else(|| "failed".to_owned(), |s| s.to_string());
            println!("{:<7} {:<40} {status:>6} {:>9.1} ms", carried.method, carried.path, carried.ms);
        }
    }
}
