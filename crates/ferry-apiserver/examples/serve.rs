//! Serves an ephemeral API server and writes its kubeconfig: a quick way to poke at the server
//! with kubectl while developing (`cargo run -p ferry-apiserver --example serve -- /tmp/kubeconfig`).
#![allow(clippy::print_stdout)]

use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kubeconfig = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "kubeconfig".to_owned());
    let server = ferry_apiserver::ApiServer::builder()
        .ephemeral()
        .simulation(ferry_apiserver::SimulationConfig {
            ready_delay: Duration::from_millis(500),
            ..Default::default()
        })
        .start()
        .await?;
    server.write_kubeconfig(&kubeconfig)?;
    println!("{} (kubeconfig {kubeconfig})", server.url());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
