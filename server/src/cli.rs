//! The relay's command line: `webmail-server <config.toml>`.

use std::{path::PathBuf, process::ExitCode};

use tracing_subscriber::EnvFilter;

use crate::{config::Config, Relay};

fn usage() -> ExitCode {
    eprintln!("usage: webmail-server <config.toml>   (see README.md for the keys)");
    ExitCode::from(2)
}

const WIRE_LEVEL_LIBRARIES: [&str; 7] = [
    "imap_next",
    "imap_codec",
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
];

/// Reads the config named on the command line and serves until the process ends.
#[tokio::main]
pub async fn run() -> ExitCode {
    // These libraries trace the wire itself: IMAP lines (LOGIN included), WebSocket frames (mail
    // as the browser reads and writes it), HTTP headers (the session cookie). Never at that level,
    // whatever RUST_LOG says, so that no password, token or mail reaches a log.
    let filter = WIRE_LEVEL_LIBRARIES.iter().fold(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        |filter, library| {
            filter.add_directive(format!("{library}=warn").parse().expect("valid directive"))
        },
    );
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        return usage();
    };
    let config = match Config::from_file(&PathBuf::from(path)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let relay = match Relay::new(config) {
        Ok(relay) => relay,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tracing::info!(%url, "relay listening");
    if let Err(e) = crate::serve(relay, listener).await {
        eprintln!("server stopped: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
