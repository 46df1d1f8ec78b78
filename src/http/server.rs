//! The mTLS listener. Each accepted TCP connection is handshaken in its own
//! task under a timeout (a slow client never stalls the accept loop); the
//! verified certificate is mapped to a partner and attached to every
//! request of the connection. Connections are bounded by a semaphore and
//! per source address by a rate limiter; headers must arrive in time.

use super::Peer;
use crate::app::{App, StartError};
use crate::audit::{self, AuditRecord, Outcome};
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// A started server.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets open requests finish (at most `grace`), returns.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(grace, self.task).await;
    }

    /// Waits until the server ends (it ends only through `shutdown`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Loads the TLS material, binds the listener and starts serving.
pub async fn start(app: Arc<App>) -> Result<RunningServer, StartError> {
    crate::tls::install_crypto_provider();
    let g = &app.config.gateway;
    crate::config::secrets::ensure_private(&g.tls.key)?;
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| crate::tls::TlsError::Io {
            path: p.to_path_buf(),
            source: e,
        })
    };
    let crls = g
        .tls
        .crl
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let tls = crate::tls::server_config(
        &read(&g.tls.ca)?,
        &read(&g.tls.cert)?,
        &read(&g.tls.key)?,
        &crls,
    )?;
    let addr = g.server.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    let (stop, stopped) = watch::channel(false);
    let router = super::router(app.clone());
    let task = tokio::spawn(accept_loop(
        listener,
        TlsAcceptor::from(tls),
        router,
        app,
        stopped,
    ));
    tracing::info!(%addr, "listening (mutual TLS)");
    Ok(RunningServer { addr, stop, task })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    app: Arc<App>,
    mut stopped: watch::Receiver<bool>,
) {
    let s = &app.config.gateway.server;
    let max = s.max_connections;
    let handshake_timeout = Duration::from_secs(s.handshake_timeout_secs);
    let header_timeout = Duration::from_secs(s.header_timeout_secs);
    let slots = Arc::new(Semaphore::new(max));
    // Before authentication, per source address: new connections a second.
    let per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>> = Arc::new(RateLimiter::keyed(
        Quota::per_second(
            NonZeroU32::new(s.connections_per_ip_per_second).unwrap_or(NonZeroU32::MIN),
        )
        .allow_burst(NonZeroU32::new(s.connection_burst_per_ip).unwrap_or(NonZeroU32::MIN)),
    ));
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
        if per_ip.check_key(&remote.ip()).is_err() {
            tracing::warn!(%remote, "connection rate exceeded; closed");
            continue;
        }
        let acceptor = acceptor.clone();
        let router = router.clone();
        let app = app.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    refused(&app, remote, &e.to_string()).await;
                    return;
                }
                Err(_) => {
                    tracing::warn!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let identity = match crate::tls::peer_identity(&tls) {
                Some(Ok(id)) => Arc::new(id),
                _ => {
                    refused(&app, remote, "no readable client certificate").await;
                    return;
                }
            };
            let partner = app
                .config
                .partners
                .by_certificate(identity.common_name.as_deref(), &identity.sha256)
                .cloned();
            let peer = Peer {
                identity,
                partner,
                remote,
            };
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(peer.clone());
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

/// A refused handshake: logged with its reason, and recorded in the audit
/// log (no partner is known, only the address's absence from the log would
/// hide a probe).
async fn refused(app: &App, remote: SocketAddr, reason: &str) {
    tracing::warn!(%remote, reason, "TLS handshake refused");
    let mut rec = AuditRecord::new("tls.refused", Outcome::Refused);
    rec.reason = Some(reason.chars().take(200).collect());
    let write = async {
        let mut tx = app.store.begin().await?;
        audit::append(&mut tx, &rec).await?;
        tx.commit().await?;
        Ok::<_, crate::circuit::CircuitError>(())
    };
    if let Err(e) = write.await {
        tracing::error!(error = %e, "cannot audit a refused handshake");
    }
}
