//! Starting and stopping the gateway: store, listeners, delivery workers, admin, retention.

use crate::admin::{AdminState, router};
use crate::config::{Config, ListenerConfig, ListenerKind};
use crate::delivery::transport_for;
use crate::listeners::serve_mllp;
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, now_ms};
use crate::store::open_store;
use passerelle_store::Store;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("store: {0}")]
    Store(#[from] passerelle_store::StoreError),
    #[error("cannot bind {name} on {bind}")]
    Bind { name: String, bind: String, source: std::io::Error },
    #[error("{0}")]
    Destination(String),
    #[error("listener {name}: tls: {reason}")]
    Tls { name: String, reason: String },
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// A running gateway. `addresses` maps listener names (and `admin`) to their bound address.
pub struct RunningGateway {
    pub addresses: HashMap<String, SocketAddr>,
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// What a reload (SIGHUP, `POST /api/config/reload`) replaces.
    pub live: Arc<crate::reload::LiveConfig>,
    ingress: CancellationToken,
    workers: CancellationToken,
    ingress_tasks: TaskTracker,
    worker_tasks: TaskTracker,
}

async fn bind(name: &str, addr: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|source| StartError::Bind { name: name.to_owned(), bind: addr.to_owned(), source })
}

pub async fn start(config: Config) -> Result<RunningGateway, StartError> {
    let store = open_store(&config).await?;
    let released = store.release_own_claims().await?;
    if released > 0 {
        tracing::info!(released, "deliveries this node left in flight at its last stop will be sent again");
    }
    let metrics = Arc::new(Metrics::new()?);
    let new_work = Arc::new(Notify::new());
    let routing = crate::reload::routing_of(&config).map_err(|e| StartError::Destination(e.to_string()))?;
    let g = &config.gateway;
    let intake = Arc::new(crate::intake::Intake::new(g.max_connections, g.max_bytes_in_flight, g.max_bytes_in_flight_per_remote));
    if intake.max_connections < g.max_connections {
        tracing::warn!(
            configured = g.max_connections,
            effective = intake.max_connections,
            "[gateway] max_connections lowered to what the descriptor limit (ulimit -n) leaves after the admin port's and the store's reserve"
        );
    }
    let listeners = crate::intake::share_connections(&config.listeners, intake.max_connections);
    let pipeline = Arc::new(
        Pipeline::new(
            Arc::clone(&store),
            routing,
            Arc::clone(&metrics),
            config.gateway.application.clone(),
            config.gateway.facility.clone(),
            config.gateway.log_phi,
        )
        .with_new_work(Arc::clone(&new_work))
        .with_keep_normalised(config.store.keep_normalised)
        .with_reject_budget(config.gateway.rejects_stored_per_minute)
        .with_intake(Arc::clone(&intake)),
    );
    let (ingress, workers) = (CancellationToken::new(), CancellationToken::new());
    let (ingress_tasks, worker_tasks) = (TaskTracker::new(), TaskTracker::new());
    let mut addresses = HashMap::new();

    // Outbox rows made by other nodes of a shared store wake this node's workers too.
    if let Some(wake_ups) = store.wake_ups() {
        let (new_work, stop) = (Arc::clone(&new_work), workers.clone());
        worker_tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = wake_ups.notified() => new_work.notify_waiters(),
                    () = stop.cancelled() => break,
                }
            }
        });
    }
    let context = crate::reload::WorkerContext {
        store: Arc::clone(&store),
        metrics: Arc::clone(&metrics),
        new_work: Arc::clone(&new_work),
        lease: Duration::from_secs(config.store.lease_secs),
        shutdown: workers.clone(),
        tracker: worker_tasks.clone(),
        // A node that starts holds what the hub holds paused before its workers claim anything.
        paused: Arc::new(std::sync::RwLock::new(store.paused_destinations().await.unwrap_or_default().into_iter().collect())),
    };
    for name in context.paused.read().map(|p| p.iter().cloned().collect::<Vec<_>>()).unwrap_or_default() {
        metrics.destination_paused.with_label_values(&[&name]).set(1);
    }
    let live = Arc::new(crate::reload::LiveConfig::new(config.clone(), Arc::clone(&pipeline), context, &listeners, intake.max_connections));
    for d in &config.destinations {
        live.start_worker(d, transport_for(d).map_err(StartError::Destination)?);
    }
    for l in &listeners {
        let Some(settings) = live.listener(&l.name) else { continue };
        if l.kind == ListenerKind::File {
            ingress_tasks.spawn(crate::file_listener::serve_files(settings, Arc::clone(&pipeline), ingress.clone()));
            continue;
        }
        let tls = match &l.tls {
            Some(t) => {
                let tls = crate::tls::ListenerTls::new(t).map_err(|reason| StartError::Tls { name: l.name.clone(), reason })?;
                // Certificate and key files are polled, so a renewed pair is used without a restart.
                let expiry = metrics.tls_certificate_expiry.with_label_values(&[&l.name]);
                worker_tasks.spawn(Arc::clone(&tls).watch(l.name.clone(), Duration::from_secs(5), expiry, workers.clone()));
                Some(tls)
            }
            None => None,
        };
        let listener = bind(&l.name, &l.bind).await?;
        addresses.insert(l.name.clone(), listener.local_addr().map_err(|source| StartError::Bind { name: l.name.clone(), bind: l.bind.clone(), source })?);
        match l.kind {
            ListenerKind::Mllp => {
                ingress_tasks.spawn(serve_mllp(listener, settings, Arc::clone(&pipeline), tls, ingress.clone()));
            }
            ListenerKind::File => {}
            ListenerKind::Http => {
                let app = crate::http_ingest::http_router(settings.clone(), Arc::clone(&pipeline));
                let (token, metrics) = (ingress.clone(), Arc::clone(&metrics));
                let intake = Some(Arc::clone(&intake));
                ingress_tasks.spawn(crate::http_server::serve_http(listener, settings, app, metrics, tls, intake, token));
            }
        }
    }
    let admin = bind("admin", &config.admin.bind).await?;
    addresses.insert("admin".into(), admin.local_addr().map_err(|source| StartError::Bind { name: "admin".into(), bind: config.admin.bind.clone(), source })?);
    let auth = Arc::new(crate::admin_auth::AdminAuth::new(&config.admin, addresses["admin"]));
    let lease_ms = i64::try_from(config.store.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let alerts: crate::alert_rules::Current = Arc::default();
    worker_tasks.spawn(evaluate_alerts(Arc::clone(&store), Arc::clone(&metrics), &config, Arc::clone(&alerts), workers.clone()));
    let history = Arc::new(crate::counter_history::CounterHistory::default());
    worker_tasks.spawn(sample_counters(Arc::clone(&metrics), Arc::clone(&history), workers.clone()));
    let state =
        AdminState { store: Arc::clone(&store), metrics: Arc::clone(&metrics), live: Arc::clone(&live), lease_ms, alerts, history, jobs: Arc::default() };
    let app = router(state, auth);
    worker_tasks.spawn(heartbeat(Arc::clone(&store), &config, Arc::clone(&live), workers.clone()));
    // The admin port is served like an HTTP listener: capped, timed, TLS when configured.
    let admin_listener = ListenerConfig {
        name: "admin".into(),
        kind: ListenerKind::Http,
        bind: config.admin.bind.clone(),
        dir: None,
        poll_ms: 0,
        max_frame_bytes: 64 * 1024,
        max_connections: 64,
        idle_timeout_secs: 60,
        max_connections_per_remote: 16,
        first_read_timeout_secs: 10,
        body_timeout_secs: 10,
        tls: None,
        auth: None,
        validate: None,
    };
    let admin_tls = match &config.admin.tls {
        Some(t) => {
            let tls = crate::tls::ListenerTls::new(t).map_err(|reason| StartError::Tls { name: "admin".into(), reason })?;
            let expiry = metrics.tls_certificate_expiry.with_label_values(&["admin"]);
            worker_tasks.spawn(Arc::clone(&tls).watch("admin".into(), Duration::from_secs(5), expiry, workers.clone()));
            Some(tls)
        }
        None => None,
    };
    let admin_settings = tokio::sync::watch::channel(admin_listener).1;
    worker_tasks.spawn(crate::http_server::serve_http(admin, admin_settings, app, Arc::clone(&metrics), admin_tls, None, workers.clone()));
    if config.store.retention_days > 0 {
        let (store, token, days) = (Arc::clone(&store), workers.clone(), i64::from(config.store.retention_days));
        worker_tasks.spawn(async move {
            loop {
                // Every node tries hourly; a shared store runs it on one node, once per horizon.
                if let Ok(n) = store.purge(store.purge_horizon(now_ms() - days * 86_400_000)).await
                    && n > 0
                {
                    tracing::info!(purged = n, "retention: finished messages purged");
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(3600)) => {}
                    () = token.cancelled() => break,
                }
            }
        });
    }
    Ok(RunningGateway { addresses, store, metrics, live, ingress, workers, ingress_tasks, worker_tasks })
}

/// Beats every third of a lease (at most every 5 s) until `shutdown`, so that the hub's nodes
/// and their configuration versions are visible from any node (`GET /api/nodes`, metrics).
/// Records this node's heartbeat, and follows the destinations paused hub-wide, until `shutdown`.
fn heartbeat(
    store: Arc<dyn Store>,
    config: &Config,
    live: Arc<crate::reload::LiveConfig>,
    shutdown: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let every = Duration::from_millis((config.store.lease_secs * 1000 / 3).clamp(100, 5000));
    let (node, started_ms) = (crate::store::node_id(config), now_ms());
    async move {
        let mut failing = false;
        loop {
            let beat = passerelle_store::NodeBeat {
                node: node.clone(),
                started_ms,
                seen_ms: now_ms(),
                config_version: live.version.read().map(|v| v.clone()).unwrap_or_default(),
                binary_version: env!("CARGO_PKG_VERSION").to_owned(),
            };
            match store.heartbeat(beat).await {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "cannot record this node's heartbeat");
                    failing = true;
                }
                Err(_) => {}
            }
            if let Ok(paused) = store.paused_destinations().await {
                live.follow_paused(&paused);
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = shutdown.cancelled() => break,
            }
        }
    }
}

impl RunningGateway {
    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        self.addresses.get(name).copied()
    }

    /// Reads the configuration file again and applies routes, destinations and listener limits.
    pub async fn reload(&self) -> Result<crate::reload::ReloadReport, crate::reload::ReloadError> {
        self.live.reload().await
    }

    /// Graceful stop: stop accepting, answer in-flight messages, then let workers finish the
    /// sends they started and record them. Pending rows resume at the next start.
    pub async fn shutdown(self) {
        self.ingress.cancel();
        self.ingress_tasks.close();
        self.ingress_tasks.wait().await;
        self.workers.cancel();
        self.worker_tasks.close();
        self.worker_tasks.wait().await;
    }
}

/// Samples this node's counters each minute for the dashboard's windows, until `stop`.
async fn sample_counters(metrics: Arc<Metrics>, history: Arc<crate::counter_history::CounterHistory>, stop: CancellationToken) {
    let every = Duration::from_millis(crate::counter_history::SAMPLE_EVERY_MS.unsigned_abs());
    loop {
        history.record(now_ms(), &crate::counter_history::read(&metrics.registry.gather()));
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => break,
        }
    }
}

/// The built-in alert rules, evaluated every `[alerts] every_secs` until `stop`.
fn evaluate_alerts(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    config: &Config,
    current: crate::alert_rules::Current,
    stop: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let rules = config.alerts.clone();
    let listeners: Vec<String> = config.listeners.iter().map(|l| l.name.clone()).collect();
    let senders: Vec<String> = config.senders.iter().map(|s| s.name.clone()).collect();
    async move {
        let every = Duration::from_secs(rules.every_secs.max(1));
        let mut evaluator = crate::alert_rules::Evaluator::new(rules, crate::pipeline::now_ms());
        loop {
            let firing = evaluator.evaluate(store.as_ref(), &metrics, &listeners, &senders, crate::pipeline::now_ms()).await;
            if let Ok(mut shared) = current.write() {
                *shared = firing;
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = stop.cancelled() => break,
            }
        }
    }
}
