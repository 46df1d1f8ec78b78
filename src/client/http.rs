//! A thin, typed client of the gateway's API (reqwest over rustls, the
//! partner's client certificate, the gateway's CA pinned).

use serde::Deserialize;

/// A client failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// TLS material.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Network or TLS failure (a refused certificate often shows as a
    /// connection closed right after the handshake).
    #[error(
        "cannot reach the gateway (certificate probably refused if this follows a handshake): {0}"
    )]
    Http(#[from] reqwest::Error),
    /// The gateway answered an error.
    #[error("the gateway answered {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The JSON error body.
        body: String,
    },
}

/// One waiting file.
#[derive(Debug, Clone, Deserialize)]
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
}

/// A client of one gateway as one partner.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    base: String,
    http: reqwest::Client,
}

impl GatewayClient {
    /// A client for `base` (`https://host:port`), trusting `ca_pem` only,
    /// presenting `cert_pem`/`key_pem` when given.
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
            .timeout(std::time::Duration::from_secs(120))
            .build()?;
        Ok(GatewayClient {
            base: base.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The underlying HTTP client, for raw calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
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

    /// `POST /v1/lists?period=…`: the status and the JSON answer (receipt or
    /// error), whatever the status.
    pub async fn push_list(
        &self,
        period: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        let resp = self
            .http
            .post(self.url(&format!("/v1/lists?period={period}")))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let json = resp.json().await?;
        Ok((status, json))
    }

    /// `GET /v1/outbox`.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>, ClientError> {
        let resp = self.http.get(self.url("/v1/outbox")).send().await?;
        Ok(Self::ok(resp).await?.json().await?)
    }

    /// `GET /v1/outbox/{id}`: the age ciphertext.
    pub async fn download(&self, file_id: &str) -> Result<Vec<u8>, ClientError> {
        let resp = self
            .http
            .get(self.url(&format!("/v1/outbox/{file_id}")))
            .send()
            .await?;
        Ok(Self::ok(resp).await?.bytes().await?.to_vec())
    }

    /// `POST /v1/outbox/{id}/ack`.
    pub async fn ack(&self, file_id: &str) -> Result<(), ClientError> {
        let resp = self
            .http
            .post(self.url(&format!("/v1/outbox/{file_id}/ack")))
            .send()
            .await?;
        Self::ok(resp).await?;
        Ok(())
    }

    /// `POST /v1/returns?kind=…` with an age ciphertext: the status and the
    /// JSON answer, whatever the status.
    pub async fn push_return(
        &self,
        kind: &str,
        ciphertext: Vec<u8>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        let resp = self
            .http
            .post(self.url(&format!("/v1/returns?kind={kind}")))
            .header(reqwest::header::CONTENT_TYPE, "application/age")
            .body(ciphertext)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await?))
    }

    /// A JSON `POST`: the status and the JSON answer.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        let resp = self.http.post(self.url(path)).json(body).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await?))
    }

    /// A JSON `GET`: the status and the JSON answer.
    pub async fn get_json(&self, path: &str) -> Result<(u16, serde_json::Value), ClientError> {
        let resp = self.http.get(self.url(path)).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await?))
    }

    /// `GET /v1/recipient`.
    pub async fn recipient(&self) -> Result<String, ClientError> {
        let resp = self.http.get(self.url("/v1/recipient")).send().await?;
        Ok(Self::ok(resp).await?.text().await?.trim().to_owned())
    }
}
