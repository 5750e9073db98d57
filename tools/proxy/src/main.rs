//! `tessera-proxy --route mpi=127.0.0.1:18081=127.0.0.1:8081@127.0.0.1:9081,... [--route ...]`:
//! serves every route until SIGTERM or SIGINT, then prints one JSON line per route (requests,
//! resent, refused) and exits.
use clap::Parser;
use std::sync::Arc;
use tessera_proxy::{serve, Route, Stats};

#[derive(Parser)]
#[command(about = "Round-robin HTTP proxy over a service's ready instances")]
struct Args {
    /// name=listen=api@management[,api@management...]
    #[arg(long = "route", required = true)]
    routes: Vec<Route>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut stats = Vec::new();
    for route in args.routes {
        let s = Arc::new(Stats::default());
        stats.push((route.name.clone(), s.clone()));
        let name = route.name.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(route, s).await {
                eprintln!("tessera-proxy: route {name}: {e}");
                std::process::exit(1);
            }
        });
    }
    let stopped = async {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    stopped.await;
    for (name, s) in stats {
        println!("{}", s.to_json(&name));
    }
    std::process::ExitCode::SUCCESS
}
