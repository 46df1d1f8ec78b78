//! A typed client of the gateway's API (reqwest over rustls, the partner's
//! client certificate, the gateway's CA pinned), retrying what may pass
//! later — network errors, 5xx, 429 — with exponential backoff and jitter,
//! honouring `Retry-After`.

use super::ClientError;
use serde::Deserialize;
use std::time::Duration;

/// One waiting file.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct OutboxEntry {
    /// Id.
    pub file_id: String,
    /// Kind.
    pub kind: String,
    /// Period.
    pub period: String,
    /// Rows.
    pub rows: u64,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// When produced.
    pub created_at: String,
    /// Inner format (`csv`, `xlsx`).
    #[serde(default = "csv")]
    pub format: String,
}

fn csv() -> String {
    "csv".into()
}

/// A client of one gateway as one partner.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    base: String,
    http: reqwest::Client,
    retries: u32,
}

/// Delay before attempt `n + 1`: 0.5 s doubling up to a minute, with
/// jitter (half to all of it), so that many clients do not retry in step.
pub fn backoff(n: u32) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1u32 << n.min(7));
    let base = base.min(Duration::from_secs(60));
    let jitter: f64 = rand::Rng::gen_range(&mut rand::thread_rng(), 0.5..=1.0);
    base.mul_f64(jitter)
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(300)))
}

impl GatewayClient {
    /// A client for `base` (`https://host:port`), trusting `ca_pem` only,
    /// presenting `cert_pem`/`key_pem` when given. No retries until
    /// [`GatewayClient::set_retries`].
    pub fn new(
        base: &str,
        ca_pem: &[u8],
        cert_pem: Option<&[u8]>,
        key_pem: Option<&[u8]>,
    ) -> Result<GatewayClient, ClientError> {
        crate::tls::install_crypto_provider();
        let tls = crate::tls::client_config(ca_pem, cert_pem, key_pem)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(300))
            .build()?;
        Ok(GatewayClient {
            base: base.trim_end_matches('/').to_owned(),
            http,
            retries: 0,
        })
    }

    /// Attempts after the first on network errors, 5xx and 429.
    pub fn set_retries(&mut self, retries: u32) {
        self.retries = retries;
    }

    /// The underlying HTTP client, for raw calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends what `make` builds, again after a delay while the failure may
    /// pass. Returns any answer below 500 other than 429.
    pub async fn send(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let mut attempt = 0;
        loop {
            let (delay, failure) = match make().send().await {
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                    let delay = retry_after(&r);
                    let status = r.status().as_u16();
                    let body = r.text().await.unwrap_or_default();
                    (delay, ClientError::Unavailable { status, body })
                }
                Ok(r) => return Ok(r),
                Err(e) => (None, ClientError::Http(e)),
            };
            if attempt >= self.retries {
                return Err(failure);
            }
            let wait = delay.unwrap_or_else(|| backoff(attempt));
            tracing::warn!(attempt = attempt + 1, wait_ms = wait.as_millis() as u64, error = %failure, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn ok(resp: reqwest::Response) -> Result<reqwest::Response, ClientError> {
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(ClientError::Refused {
                status: resp.status().as_u16(),
                body: resp.text().await.unwrap_or_default(),
            })
        }
    }

    async fn status_json(resp: reqwest::Response) -> Result<(u16, serde_json::Value), ClientError> {
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Ok((status, json))
    }

    /// `POST /v1/lists?period=…`: the status and the JSON answer (receipt or
    /// error), whatever the status below 500.
    pub async fn push_list(
        &self,
        period: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        self.post_body(&format!("/v1/lists?period={period}"), content_type, body)
            .await
    }

    /// `POST /v1/procedures?period=…`: the status and the JSON answer.
    pub async fn push_procedures(
        &self,
        period: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        self.post_body(
            &format!("/v1/procedures?period={period}"),
            content_type,
            body,
        )
        .await
    }

    /// `POST path` with a body of `content_type`: the status and the JSON
    /// answer.
    async fn post_body(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        let url = self.url(path);
        let resp = self
            .send(|| {
                self.http
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body.clone())
            })
            .await?;
        Self::status_json(resp).await
    }

    /// `POST /v1/returns?kind=…` with an age ciphertext.
    pub async fn push_return(
        &self,
        kind: &str,
        ciphertext: Vec<u8>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        self.post_body(
            &format!("/v1/returns?kind={kind}"),
            "application/age",
            ciphertext,
        )
        .await
    }

    /// A JSON `POST`: the status and the JSON answer.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        let url = self.url(path);
        let resp = self.send(|| self.http.post(&url).json(body)).await?;
        Self::status_json(resp).await
    }

    /// A JSON `GET`: the status and the JSON answer.
    pub async fn get_json(&self, path: &str) -> Result<(u16, serde_json::Value), ClientError> {
        let url = self.url(path);
        let resp = self.send(|| self.http.get(&url)).await?;
        Self::status_json(resp).await
    }

    /// `GET /v1/outbox`.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>, ClientError> {
        let url = self.url("/v1/outbox");
        let resp = self.send(|| self.http.get(&url)).await?;
        Ok(Self::ok(resp).await?.json().await?)
    }

    /// `GET /v1/outbox/{id}`: the age ciphertext.
    pub async fn download(&self, file_id: &str) -> Result<Vec<u8>, ClientError> {
        let url = self.url(&format!("/v1/outbox/{file_id}"));
        let resp = self.send(|| self.http.get(&url)).await?;
        Ok(Self::ok(resp).await?.bytes().await?.to_vec())
    }

    /// `POST /v1/outbox/{id}/ack`.
    pub async fn ack(&self, file_id: &str) -> Result<(), ClientError> {
        let url = self.url(&format!("/v1/outbox/{file_id}/ack"));
        let resp = self.send(|| self.http.post(&url)).await?;
        Self::ok(resp).await?;
        Ok(())
    }

    /// `GET /v1/recipient`.
    pub async fn recipient(&self) -> Result<String, ClientError> {
        let url = self.url("/v1/recipient");
        let resp = self.send(|| self.http.get(&url)).await?;
        Ok(Self::ok(resp).await?.text().await?.trim().to_owned())
    }
}
