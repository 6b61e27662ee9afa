//! Runs the Contoso Tasks sample API standalone until Ctrl-C.
//!
//! Environment: `CONTOSO_ADDR` (default `127.0.0.1:3000`), `CONTOSO_API_KEY`
//! (default `contoso-demo-key`), `CONTOSO_PUBLIC_URL` (optional base URL for links).

use std::process::ExitCode;

use contoso_tasks::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, start};

#[tokio::main]
async fn main() -> ExitCode {
    let mut config = Config::default();
    let addr = std::env::var("CONTOSO_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    config.addr = match addr.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("contoso-tasks: CONTOSO_ADDR '{addr}' is not a socket address: {e}");
            return ExitCode::from(2);
        }
    };
    if let Ok(key) = std::env::var("CONTOSO_API_KEY")
        && !key.is_empty()
    {
        config.api_key = key;
    }
    if let Ok(url) = std::env::var("CONTOSO_PUBLIC_URL")
        && !url.is_empty()
    {
        config.public_url = Some(url);
    }
    let api_key = config.api_key.clone();
    let running = match start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("contoso-tasks: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base = running.base_url().to_owned();
    println!("Contoso Tasks is listening on {base}");
    println!();
    println!("  API key (X-API-Key header): {api_key}");
    println!("  OAuth client:               {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}");
    println!("  OAuth authorize:            {base}/oauth/authorize");
    println!("  OAuth token (and refresh):  {base}/oauth/token");
    println!("  OAuth call counters:        {base}/oauth/stats");
    println!("  Health:                     {base}/healthz");
    println!();
    println!("Try:");
    println!(
        "  curl -s -X POST -H 'X-API-Key: {api_key}' -H 'Content-Type: application/json' \\\n    -d '{{\"name\":\"Launch\"}}' {base}/projects"
    );
    println!("  curl -s -H 'X-API-Key: {api_key}' {base}/projects");
    println!();
    println!("Press Ctrl-C to stop.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("contoso-tasks: cannot wait for Ctrl-C: {e}");
    }
    match running.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("contoso-tasks: shutdown failed: {e}");
            ExitCode::FAILURE
        }
    }
}
