//! The partner side: an HTTPS client presenting the partner's certificate,
//! trusting only the gateway's CA.

mod http;

pub use http::{ClientError, GatewayClient, OutboxEntry};
