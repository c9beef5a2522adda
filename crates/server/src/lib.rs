//! Switchboard's server: the HTTP/WebSocket edge over the service layer
//! (`switchboard-service`), the web UI, and the start-up that wires them to
//! a store.
//!
//! One [`service::Service`] owns, per workspace, a routing engine rebuilt
//! from the store at start. Each operation changes the engine under the
//! workspace's lock, hands the resulting records and events to the store's
//! group commit before releasing the lock, and answers only once they are
//! durable; WebSocket subscribers see events after they are committed.

pub mod api;
pub mod config;
pub mod delivery;
pub mod web;

// The service layer, under the paths the edge has always used.
pub use switchboard_service::{self as service, auth, demo};

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A running server: its address and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served on its own, if it is.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, then returns.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops (on Ctrl-C or SIGTERM when started by `serve`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// What may be tuned when starting a server; the defaults suit production.
#[derive(Clone, Default)]
pub struct Options {
    pub webhooks: delivery::DeliveryOptions,
    /// Serve the web UI from this directory instead of the copy embedded
    /// in the binary (for editing the pages without rebuilding).
    pub assets_dir: Option<std::path::PathBuf>,
    /// Who may read `/metrics` and which proxy is believed.
    pub edge: api::edge::Edge,
    /// Serve `/metrics` (only) on this address too.
    pub metrics_listen: Option<SocketAddr>,
    /// The base URL the outside world reaches the server at; `None` means
    /// `http://` and the bound address (see [`service::Service::public_url`]).
    pub public_url: Option<String>,
    /// The channels to register: each gets its `/hooks` and a delivery
    /// loop, which resumes what was committed but not sent before a restart.
    pub channels: Vec<Arc<dyn service::conversation::ChannelAdapter>>,
    pub channel_delivery: service::conversation::DeliveryOptions,
}

/// Binds `addr` (port 0 picks a free one) and serves `service` until stopped.
pub async fn start(service: service::Service, addr: SocketAddr) -> std::io::Result<Running> {
    start_with(service, addr, Options::default()).await
}

/// [`start`] with [`Options`].
pub async fn start_with(service: service::Service, addr: SocketAddr, options: Options) -> std::io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    service.set_public_url(options.public_url.as_deref().unwrap_or(&format!("http://{addr}")));
    let (shutdown, mut stop) = tokio::sync::watch::channel(false);
    let ticker = service.clone().spawn_ticker(stop.clone());
    let warmup = service.clone().spawn_report_warmup();
    let deliveries = delivery::spawn(service.clone(), options.webhooks, stop.clone());
    let rules = service.clone().spawn_rules(stop.clone());
    let summaries = service.clone().spawn_daily_summaries(stop.clone());
    let sends: Vec<_> = options
        .channels
        .into_iter()
        .map(|adapter| {
            service.channels().register(adapter.clone());
            service.spawn_delivery(adapter, options.channel_delivery.clone(), stop.clone())
        })
        .collect();
    let assets = Arc::new(web::Assets::new(options.assets_dir));
    let service = Arc::new(service);
    let metrics = match options.metrics_listen {
        Some(at) => Some(api::edge::serve_metrics(service.clone(), at, stop.clone()).await?),
        None => None,
    };
    let metrics_addr = metrics.as_ref().map(|(addr, _)| *addr);
    let app =
        api::router(service, assets.clone()).merge(web::router(assets)).layer(axum::Extension(Arc::new(options.edge)));
    let task = tokio::spawn(async move {
        let graceful = async move {
            let _ = stop.changed().await;
        };
        if let Err(e) = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(graceful)
            .await
        {
            tracing::error!(error = %e, "server stopped");
        }
        ticker.abort();
        warmup.abort();
        deliveries.abort();
        rules.abort();
        summaries.abort();
        for send in sends {
            send.abort();
        }
        if let Some((_, metrics)) = metrics {
            let _ = metrics.await;
        }
    });
    Ok(Running { addr, metrics_addr, shutdown, task })
}

/// Stops `running` on Ctrl-C or SIGTERM.
pub async fn stop_on_signal(running: Running) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
    running.stop().await;
}
