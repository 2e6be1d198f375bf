//! Live reconfiguration (SIGHUP, `POST /api/config/reload`): routes, destinations and listener
//! limits and declared senders are taken from the file again without a restart. A new file is read and checked whole
//! first; an invalid one is refused with its file-and-line error and the running one stays. What
//! only a restart can change (store, admin port, `[gateway]`, a listener's kind, bind, TLS or
//! directory) is refused by name. Messages in flight keep the routes they started with; a
//! destination's worker stops only after recording the sends it started, so nothing is dropped or
//! sent twice; a removed destination's rows stay in the outbox, visible, until an operator
//! retries or dead-letters them.

use crate::admin::DestinationInfo;
use crate::config::{Config, ConfigError, DestinationClass, DestinationConfig, ListenerConfig};
use crate::delivery::{Transport, Worker, render::Renderer, transport_for};
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, Routing};
use passerelle_store::Store;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("this gateway runs on the embedded default configuration; there is no file to reload")]
    NoFile,
    #[error("{0}")]
    Invalid(#[from] ConfigError),
    #[error("{}: {}", .0.path, .0.changes.join("; "))]
    NeedsRestart(RestartNeeded),
    #[error("destination {name}: {reason}")]
    Destination { name: String, reason: String },
}

#[derive(Debug)]
pub struct RestartNeeded {
    pub path: String,
    pub changes: Vec<String>,
}

/// What a reload changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReloadReport {
    pub previous_version: String,
    pub version: String,
    pub destinations_added: Vec<String>,
    pub destinations_removed: Vec<String>,
    pub destinations_changed: Vec<String>,
    pub routes: usize,
    pub listeners_changed: Vec<String>,
}

/// A destination's running worker: stopped by its own token, awaited before a successor starts.
struct RunningWorker {
    config: DestinationConfig,
    stop: CancellationToken,
    done: tokio::task::JoinHandle<()>,
}

/// What every delivery worker shares.
pub struct WorkerContext {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub new_work: Arc<Notify>,
    pub lease: Duration,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    /// Destinations paused by an operator on this node.
    pub paused: crate::delivery::Paused,
}

/// The parts of a running gateway a reload replaces, and the lock that makes reloads one at a time.
pub struct LiveConfig {
    path: Option<PathBuf>,
    current: tokio::sync::Mutex<Config>,
    pipeline: Arc<Pipeline>,
    workers: Mutex<HashMap<String, RunningWorker>>,
    context: WorkerContext,
    listeners: HashMap<String, watch::Sender<ListenerConfig>>,
    /// The gateway-wide connection room the listeners' caps are shared within.
    connection_room: usize,
    /// Configured destinations, as the admin API lists them.
    pub destinations: Arc<RwLock<Vec<DestinationInfo>>>,
    /// The running configuration's version, as the heartbeat and the admin API report it.
    pub version: Arc<RwLock<String>>,
}

/// The routes and renderers of `config`, or the destination whose renderer cannot be made.
pub fn routing_of(config: &Config) -> Result<Routing, ReloadError> {
    let mut renderers = HashMap::new();
    for d in &config.destinations {
        let renderer = Renderer::new(d).map_err(|e| ReloadError::Destination { name: d.name.clone(), reason: e.to_string() })?;
        renderers.insert(d.name.clone(), renderer);
    }
    let dmp_destinations = config.destinations.iter().filter(|d| d.class == Some(DestinationClass::Dmp)).map(|d| d.name.clone()).collect();
    let senders = crate::senders::Senders::new(&config.senders, config.gateway.undeclared_senders);
    let validation = config.listeners.iter().filter_map(|l| Some((l.name.clone(), l.validate?))).collect();
    Ok(Routing { routes: config.routes.clone(), renderers, dmp_destinations, senders, validation })
}

fn destination_infos(config: &Config) -> Vec<DestinationInfo> {
    config.destinations.iter().map(|d| DestinationInfo { name: d.name.clone(), kind: d.kind.as_str() }).collect()
}

/// A listener's settings only a restart can change: what it is and where it listens.
fn listener_identity(l: &ListenerConfig) -> (crate::config::ListenerKind, &str, &Option<crate::tls::TlsConfig>, &Option<String>) {
    (l.kind, l.bind.as_str(), &l.tls, &l.dir)
}

/// Why `new` cannot replace `old` while running (empty when it can).
fn restart_needed(old: &Config, new: &Config) -> Vec<String> {
    let mut changes = Vec::new();
    // `undeclared_senders` is the one `[gateway]` key a reload applies.
    let gateway_same = crate::config::GatewayConfig { undeclared_senders: new.gateway.undeclared_senders, ..old.gateway.clone() } == new.gateway;
    for (section, same) in [("[store]", old.store == new.store), ("[admin]", old.admin == new.admin), ("[gateway]", gateway_same)] {
        if !same {
            changes.push(format!("{section} changed: restart the node to apply it"));
        }
    }
    let names = |c: &Config| c.listeners.iter().map(|l| l.name.clone()).collect::<BTreeSet<_>>();
    let (before, after) = (names(old), names(new));
    for added in after.difference(&before) {
        changes.push(format!("listener {added} added: restart the node to open it"));
    }
    for removed in before.difference(&after) {
        changes.push(format!("listener {removed} removed: restart the node to close it"));
    }
    if old.alerts != new.alerts {
        changes.push("[alerts] changed: restart the node to apply the new thresholds".into());
    }
    for l in &new.listeners {
        if let Some(o) = old.listeners.iter().find(|o| o.name == l.name)
            && listener_identity(o) != listener_identity(l)
        {
            changes.push(format!("listener {}: kind, bind, tls or dir changed: restart the node to apply it", l.name));
        }
    }
    changes
}

impl LiveConfig {
    /// The running configuration's parts; `listeners` holds the (shared-out) listener settings
    /// each listener watches.
    pub fn new(config: Config, pipeline: Arc<Pipeline>, context: WorkerContext, listeners: &[ListenerConfig], connection_room: usize) -> Self {
        let listeners = listeners.iter().map(|l| (l.name.clone(), watch::Sender::new(l.clone()))).collect();
        Self {
            path: config.source.clone(),
            destinations: Arc::new(RwLock::new(destination_infos(&config))),
            version: Arc::new(RwLock::new(config.version.clone())),
            current: tokio::sync::Mutex::new(config),
            pipeline,
            workers: Mutex::default(),
            context,
            listeners,
            connection_room,
        }
    }

    /// Each route of the running configuration with whether it matches `msg`, and its destinations.
    pub fn explain_routing(&self, msg: &passerelle_model::Message) -> Vec<(String, bool, Vec<String>)> {
        crate::routing::explain(&self.pipeline.routing().routes, msg)
    }

    /// Pauses (or resumes) the delivery of destination `name` on this node; false when no such
    /// destination runs.
    pub fn set_paused(&self, name: &str, paused: bool) -> bool {
        let known = self.workers.lock().is_ok_and(|w| w.contains_key(name));
        if known && let Ok(mut set) = self.context.paused.write() {
            if paused {
                set.insert(name.to_owned());
            } else {
                set.remove(name);
            }
            self.context.metrics.destination_paused.with_label_values(&[name]).set(i64::from(paused));
            self.context.new_work.notify_waiters();
        }
        known
    }

    /// Whether destination `name` runs on this node.
    pub fn runs(&self, name: &str) -> bool {
        self.workers.lock().is_ok_and(|w| w.contains_key(name))
    }

    /// Follows the pauses the store holds for the whole hub (read with each heartbeat): each
    /// running destination is paused exactly when it is in `paused`.
    pub fn follow_paused(&self, paused: &[String]) {
        let running: Vec<String> = self.workers.lock().map(|w| w.keys().cloned().collect()).unwrap_or_default();
        for name in running {
            let wanted = paused.contains(&name);
            if wanted != self.is_paused(&name) {
                self.set_paused(&name, wanted);
            }
        }
    }

    /// Whether `name` is paused on this node.
    pub fn is_paused(&self, name: &str) -> bool {
        self.context.paused.read().is_ok_and(|p| p.contains(name))
    }

    /// The senders the running configuration declares.
    pub fn senders(&self) -> Vec<crate::senders::SenderConfig> {
        self.pipeline.routing().senders.declared().to_vec()
    }

    /// The settings listener `name` follows: a reload sends it new limits.
    pub fn listener(&self, name: &str) -> Option<watch::Receiver<ListenerConfig>> {
        self.listeners.get(name).map(watch::Sender::subscribe)
    }

    /// Starts the delivery worker of `d` with its transport.
    pub fn start_worker(&self, d: &DestinationConfig, transport: Arc<dyn Transport>) {
        let c = &self.context;
        let worker = Arc::new(Worker {
            config: d.clone(),
            store: Arc::clone(&c.store),
            metrics: Arc::clone(&c.metrics),
            transport,
            new_work: Arc::clone(&c.new_work),
            renew_every: Duration::from_millis((c.lease.as_millis() as u64 / 3).max(100)),
            lease: c.lease,
            paused: Arc::clone(&c.paused),
        });
        let stop = c.shutdown.child_token();
        let done = c.tracker.spawn(worker.run(stop.clone()));
        if let Ok(mut workers) = self.workers.lock() {
            workers.insert(d.name.clone(), RunningWorker { config: d.clone(), stop, done });
        }
    }

    /// Reads the configuration file again and applies it, or refuses it and keeps the running one.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let path = self.path.as_ref().ok_or(ReloadError::NoFile)?;
        let mut current = self.current.lock().await;
        let new = Config::load(path)?;
        let changes = restart_needed(&current, &new);
        if !changes.is_empty() {
            return Err(ReloadError::NeedsRestart(RestartNeeded { path: path.display().to_string(), changes }));
        }
        // Everything that can fail is made before anything running is touched.
        let routing = routing_of(&new)?;
        let old_destinations: HashMap<&str, &DestinationConfig> = current.destinations.iter().map(|d| (d.name.as_str(), d)).collect();
        let mut report =
            ReloadReport { previous_version: current.version.clone(), version: new.version.clone(), routes: new.routes.len(), ..Default::default() };
        let mut starting = Vec::new();
        for d in &new.destinations {
            match old_destinations.get(d.name.as_str()) {
                Some(old) if *old == d => continue,
                Some(_) => report.destinations_changed.push(d.name.clone()),
                None => report.destinations_added.push(d.name.clone()),
            }
            let transport = transport_for(d).map_err(|reason| ReloadError::Destination { name: d.name.clone(), reason })?;
            starting.push((d.clone(), transport));
        }
        report.destinations_removed =
            current.destinations.iter().filter(|d| !new.destinations.iter().any(|n| n.name == d.name)).map(|d| d.name.clone()).collect();

        // New messages route by the new file from here on.
        self.pipeline.set_routing(routing);
        let mut stopping: Vec<RunningWorker> = Vec::new();
        if let Ok(mut workers) = self.workers.lock() {
            for name in report.destinations_removed.iter().chain(&report.destinations_changed) {
                stopping.extend(workers.remove(name));
            }
        }
        for w in &stopping {
            w.stop.cancel();
        }
        for w in stopping {
            // The sends it started are recorded before its successor may claim its rows.
            let _ = w.done.await;
            tracing::info!(destination = %w.config.name, "delivery worker stopped by a reload");
        }
        for (d, transport) in starting {
            self.start_worker(&d, transport);
        }
        for l in crate::intake::share_connections(&new.listeners, self.connection_room) {
            if let Some(sender) = self.listeners.get(&l.name) {
                let changed = sender.send_if_modified(|running| {
                    let modified = *running != l;
                    if modified {
                        *running = l.clone();
                    }
                    modified
                });
                if changed {
                    report.listeners_changed.push(l.name.clone());
                }
            }
        }
        if let Ok(mut infos) = self.destinations.write() {
            *infos = destination_infos(&new);
        }
        if let Ok(mut version) = self.version.write() {
            version.clone_from(&new.version);
        }
        tracing::info!(
            previous = %report.previous_version,
            version = %report.version,
            added = report.destinations_added.len(),
            removed = report.destinations_removed.len(),
            changed = report.destinations_changed.len(),
            listeners = report.listeners_changed.len(),
            "configuration reloaded"
        );
        *current = new;
        Ok(report)
    }
}
