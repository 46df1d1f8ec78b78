//! The mTLS listener. Each accepted TCP connection is handshaken in its own
//! task under a timeout (a slow client never stalls the accept loop); the
//! verified certificate is mapped to a partner and attached to every
//! request of the connection.
//!
//! Before authentication a source address may open so many connections a
//! second (a rate) and hold so many open at once (a cap, handshakes
//! included), and a new connection must send its first byte (the TLS
//! ClientHello) within a short delay: idle sockets from one address can
//! neither take every slot nor hold one for the whole handshake timeout.
//!
//! The TLS material (partner CA, CRLs, server certificate and key) and the
//! partners file are reloaded through a [`ReloadHandle`] (`serve` calls it
//! on SIGHUP), and the CRL files are re-read when their modification time
//! or size changes; material that does not load is refused with an error
//! logged, the previous one staying in force.

use super::{HttpState, Peer};
use crate::app::{App, StartError};
use crate::audit::{AuditRecord, Outcome};
use crate::config::{ConfigError, Partners};
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// A started server.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where the console listens, when it is configured.
    pub console_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    console_task: Option<tokio::task::JoinHandle<()>>,
    summaries: tokio::task::JoinHandle<()>,
    reload: ReloadHandle,
}

impl RunningServer {
    /// Stops accepting, lets open requests finish (at most `grace`), returns.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(grace, async {
            let _ = self.task.await;
            if let Some(t) = self.console_task {
                let _ = t.await;
            }
            // The refusals counted but not yet summarised are written.
            let _ = self.summaries.await;
        })
        .await;
    }

    /// Waits until the server ends (it ends only through `shutdown`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// What reloads the server's TLS material and partners.
    pub fn reload_handle(&self) -> ReloadHandle {
        self.reload.clone()
    }
}

/// A reload that did not take: the previous material stays in force.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The CA, CRLs, server certificate or key.
    #[error("TLS material not reloaded, the previous one stays in force: {0}")]
    Tls(#[source] StartError),
    /// The partners file.
    #[error("partners not reloaded, the previous ones stay in force: {0}")]
    Partners(#[source] ConfigError),
}

/// Reloads a running server's CRLs, server certificate and key, and
/// partners (what SIGHUP does). Cheap to clone.
#[derive(Clone)]
pub struct ReloadHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ReloadHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadHandle").finish_non_exhaustive()
    }
}

/// A file's modification time and size: a CRL that changes changes one.
type Stamp = Option<(Option<SystemTime>, u64)>;

struct Shared {
    app: Arc<App>,
    acceptor: RwLock<TlsAcceptor>,
    /// The console's: the same material, a client certificate optional.
    console_acceptor: RwLock<TlsAcceptor>,
    crl_stamps: Mutex<Vec<Stamp>>,
}

impl ReloadHandle {
    /// Reloads the TLS material (CA, CRLs, server certificate and key) and
    /// the partners file. Each part that does not load keeps its previous
    /// version; the errors are logged and returned.
    pub fn reload(&self) -> Result<(), Vec<ReloadError>> {
        let mut errors = Vec::new();
        if let Err(e) = self.reload_tls() {
            errors.push(e);
        }
        if let Err(e) = self.reload_partners() {
            errors.push(e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Reloads the CA, CRLs, server certificate and key.
    pub fn reload_tls(&self) -> Result<(), ReloadError> {
        let s = &self.shared;
        *s.crl_stamps.lock().unwrap_or_else(|p| p.into_inner()) = crl_stamps(&s.app);
        match load_tls(&s.app) {
            Ok((config, console)) => {
                *s.acceptor.write().unwrap_or_else(|p| p.into_inner()) = TlsAcceptor::from(config);
                *s.console_acceptor
                    .write()
                    .unwrap_or_else(|p| p.into_inner()) = TlsAcceptor::from(console);
                tracing::info!("TLS material reloaded (CA, CRLs, server certificate and key)");
                Ok(())
            }
            Err(e) => {
                let e = ReloadError::Tls(e);
                tracing::error!(error = %e, "reload refused");
                Err(e)
            }
        }
    }

    /// Reloads the partners file (checked against the policy in force).
    pub fn reload_partners(&self) -> Result<(), ReloadError> {
        let s = &self.shared;
        let config = &s.app.config;
        let loaded = Partners::load(&config.gateway.partners_file, &config.policy).and_then(|p| {
            config.policy.check_against(&p)?;
            Ok(p)
        });
        match loaded {
            Ok(partners) => {
                let n = partners.iter().count();
                s.app.replace_partners(partners);
                tracing::info!(partners = n, "partners reloaded");
                Ok(())
            }
            Err(e) => {
                let e = ReloadError::Partners(e);
                tracing::error!(error = %e, "reload refused");
                Err(e)
            }
        }
    }

    /// Reloads the TLS material when a CRL file's time or size changed
    /// since the last load; whether it did.
    fn reload_if_crl_changed(&self) -> bool {
        let now = crl_stamps(&self.shared.app);
        let changed = *self
            .shared
            .crl_stamps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            != now;
        if changed {
            tracing::info!("a CRL file changed; reloading the TLS material");
            let _ = self.reload_tls();
        }
        changed
    }

    fn acceptor(&self, door: Door) -> TlsAcceptor {
        let lock = match door {
            Door::Api => &self.shared.acceptor,
            Door::Console => &self.shared.console_acceptor,
        };
        lock.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn partners(&self) -> Arc<Partners> {
        self.shared.app.partners()
    }
}

fn crl_stamps(app: &App) -> Vec<Stamp> {
    app.config
        .gateway
        .tls
        .crl
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (m.modified().ok(), m.len()))
        })
        .collect()
}

/// Reads and checks the TLS material: the server configurations of the
/// API and of the console. With
/// `production = true` the development PKI is refused; without, it is
/// accepted with a warning.
fn load_tls(app: &App) -> Result<(TlsConfig, TlsConfig), StartError> {
    let g = &app.config.gateway;
    crate::config::secrets::ensure_private(&g.tls.key)?;
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| crate::tls::TlsError::Io {
            path: p.to_path_buf(),
            source: e,
        })
    };
    let mut crls = Vec::new();
    for p in &g.tls.crl {
        let pem = read(p)?;
        for stale in crate::tls::stale_crls(p, &pem) {
            tracing::error!(error = %stale, "stale CRL: every client is refused until a current one is loaded");
        }
        crls.push(pem);
    }
    let ca = read(&g.tls.ca)?;
    let cert = read(&g.tls.cert)?;
    // The first file carrying the development CA's mark.
    let dev = [(&g.tls.ca, &ca), (&g.tls.cert, &cert)]
        .into_iter()
        .find(|(_, pem)| crate::tls::is_development_pki(pem));
    if let Some((path, _)) = dev {
        if g.server.production {
            return Err(crate::tls::TlsError::DevelopmentPki { path: path.clone() }.into());
        }
        tracing::warn!(
            file = %path.display(),
            "DEVELOPMENT PKI IN USE (certs-example/, `passerelle dev-certs`): its CA key is public; never use it in production (set `production = true` in [server] to refuse it)"
        );
    }
    let key = read(&g.tls.key)?;
    Ok((
        crate::tls::server_config(&ca, &cert, &key, &crls)?,
        crate::tls::console_server_config(&ca, &cert, &key, &crls)?,
    ))
}

type TlsConfig = Arc<rustls::ServerConfig>;

/// Which front door a listener is: the API (a partner's certificate
/// required) or the console (a person's certificate optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    Api,
    Console,
}

/// Loads the TLS material, binds the listener and starts serving.
pub async fn start(app: Arc<App>) -> Result<RunningServer, StartError> {
    crate::tls::install_crypto_provider();
    let stamps = crl_stamps(&app);
    let (tls, console_tls) = load_tls(&app)?;
    let g = &app.config.gateway;
    let (listener, addr) = bind(g.server.listen).await?;
    let console = match g.console.listen {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let reload = ReloadHandle {
        shared: Arc::new(Shared {
            app: app.clone(),
            acceptor: RwLock::new(TlsAcceptor::from(tls)),
            console_acceptor: RwLock::new(TlsAcceptor::from(console_tls)),
            crl_stamps: Mutex::new(stamps),
        }),
    };
    let state = super::state(app.clone());
    let router = super::router_for(state.clone());
    let summaries = tokio::spawn(super::guard::summarise_refusals(
        state.clone(),
        stopped.clone(),
    ));
    if !g.tls.crl.is_empty() {
        tokio::spawn(poll_crls(
            reload.clone(),
            Duration::from_secs(g.tls.crl_poll_secs.max(1)),
            stopped.clone(),
        ));
    }
    let (console_addr, console_task) = match console {
        Some((listener, console_addr)) => {
            let oidc = match &g.console.oidc {
                Some(o) => Some(Arc::new(crate::console::oidc::OidcClient::new(
                    o,
                    &app.config.gateway.path,
                    console_addr,
                )?)),
                None => None,
            };
            let router = crate::console::router(state.app.clone(), state.request_timeout, oidc);
            tracing::info!(%console_addr, "console listening (HTTPS, personal certificate optional)");
            (
                Some(console_addr),
                Some(tokio::spawn(accept_loop(
                    listener,
                    reload.clone(),
                    router,
                    state.clone(),
                    stopped.clone(),
                    Door::Console,
                ))),
            )
        }
        None => (None, None),
    };
    let task = tokio::spawn(accept_loop(
        listener,
        reload.clone(),
        router,
        state,
        stopped,
        Door::Api,
    ));
    tracing::info!(%addr, "listening (mutual TLS)");
    Ok(RunningServer {
        addr,
        console_addr,
        stop,
        task,
        console_task,
        summaries,
        reload,
    })
}

/// Binds `addr` (port 0: one the system picks); the listener and its
/// address.
async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    Ok((listener, addr))
}

/// Looks at the CRL files every `every`; reloads when one changed.
async fn poll_crls(reload: ReloadHandle, every: Duration, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let r = reload.clone();
                let _ = tokio::task::spawn_blocking(move || r.reload_if_crl_changed()).await;
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Open connections per source address.
#[derive(Debug, Default)]
struct OpenPerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of an address; given back when dropped.
struct OpenSlot {
    table: Arc<OpenPerAddress>,
    ip: IpAddr,
}

impl OpenPerAddress {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<OpenSlot> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let open = map.entry(ip).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(OpenSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        let mut map = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = map.get_mut(&self.ip) {
            *open -= 1;
            if *open == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    reload: ReloadHandle,
    router: Router,
    state: Arc<HttpState>,
    mut stopped: watch::Receiver<bool>,
    door: Door,
) {
    let s = &state.app.config.gateway.server;
    let max = s.max_connections;
    let max_per_ip = s.max_connections_per_ip;
    let hello_timeout = Duration::from_secs(s.client_hello_timeout_secs);
    let handshake_timeout = Duration::from_secs(s.handshake_timeout_secs);
    let header_timeout = Duration::from_secs(s.header_timeout_secs);
    let slots = Arc::new(Semaphore::new(max));
    let open = Arc::new(OpenPerAddress::default());
    // Before authentication, per source address: new connections a second.
    let per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>> = Arc::new(RateLimiter::keyed(
        Quota::per_second(
            NonZeroU32::new(s.connections_per_ip_per_second).unwrap_or(NonZeroU32::MIN),
        )
        .allow_burst(NonZeroU32::new(s.connection_burst_per_ip).unwrap_or(NonZeroU32::MIN)),
    ));
    let mut accepted: u64 = 0;
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stopped.changed() => break,
        };
        let (tcp, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        accepted += 1;
        if accepted.is_multiple_of(1024) {
            per_ip.retain_recent();
        }
        if per_ip.check_key(&remote.ip()).is_err() {
            tracing::warn!(%remote, "connection rate exceeded; closed");
            continue;
        }
        let Some(open_slot) = open.take(remote.ip(), max_per_ip) else {
            tracing::warn!(%remote, max_per_ip, "too many open connections from this address; closed");
            continue;
        };
        let acceptor = reload.acceptor(door);
        let partners = reload.partners();
        let router = router.clone();
        let state = state.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _open_slot = open_slot;
            // The first byte (the ClientHello) must come soon; the rest of
            // the handshake has its own, longer, delay.
            let mut first = [0u8; 1];
            match tokio::time::timeout(hello_timeout, tcp.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                Ok(_) => return,
                Err(_) => {
                    tracing::debug!(%remote, "no ClientHello in time; closed");
                    return;
                }
            }
            let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    refused(&state, remote, &e.to_string()).await;
                    return;
                }
                Err(_) => {
                    tracing::warn!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let identity = match (crate::tls::peer_identity(&tls), door) {
                (Some(Ok(id)), _) => Some(Arc::new(id)),
                // The console lets a browser without a certificate reach
                // its sign-in page.
                (None, Door::Console) => None,
                _ => {
                    refused(&state, remote, "no readable client certificate").await;
                    return;
                }
            };
            let peer = match (identity, door) {
                (Some(identity), Door::Api) => {
                    let partner = partners
                        .by_certificate(identity.common_name.as_deref(), &identity.sha256)
                        .cloned();
                    Attached::Api(Peer {
                        identity,
                        partner,
                        remote,
                    })
                }
                (identity, _) => Attached::Console(crate::console::Visitor { identity, remote }),
            };
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    match &peer {
                        Attached::Api(p) => {
                            req.extensions_mut().insert(p.clone());
                        }
                        Attached::Console(v) => {
                            req.extensions_mut().insert(v.clone());
                        }
                    }
                    router.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(tls), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%remote, error = %e, "connection ended with an error");
                    }
                }
                _ = stopped.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    // Let open connections finish: wait until every slot is back.
    let _ = slots.acquire_many(max as u32).await;
}

/// What a connection attaches to each of its requests.
enum Attached {
    Api(Peer),
    Console(crate::console::Visitor),
}

/// A refused handshake: logged with the remote address (ip:port) and its
/// reason, and recorded in the audit log (no partner is known, only the
/// address's absence from the log would hide a probe) — in full once per
/// source address, reason and interval, the others counted into a summary.
async fn refused(state: &HttpState, remote: SocketAddr, reason: &str) {
    tracing::warn!(%remote, reason, "TLS handshake refused");
    let mut rec = AuditRecord::new("tls.refused", Outcome::Refused);
    rec.reason = Some(reason.chars().take(200).collect());
    // The address (not the port, which changes per connection), for the
    // DPO's log as for the operator's.
    rec.objects = vec![format!("remote:{}", remote.ip())];
    if !state
        .refusals
        .first_of_interval(&remote.ip().to_string(), &rec)
    {
        return;
    }
    if let Err(e) = crate::circuit::audit_alone(&state.app, &rec).await {
        tracing::error!(error = %e, "cannot audit a refused handshake");
    }
}
