//! The operations endpoint (axum): `GET /metrics` (Prometheus text format),
//! `GET /healthz` (200 while the process runs), `GET /readyz` (200 once zones are
//! loaded and sockets bound, 503 before).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::exporter::Exporter;

/// Serves the endpoint on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, exporter: Arc<Exporter>) {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(exporter);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "metrics endpoint stopped");
    }
}

async fn metrics(State(exporter): State<Arc<Exporter>>) -> impl IntoResponse {
    // Reading /proc and the journals' sizes is blocking work.
    let rendered = tokio::task::spawn_blocking(move || exporter.render()).await;
    match rendered {
        Ok(Ok(text)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            text,
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

async fn ready(State(exporter): State<Arc<Exporter>>) -> impl IntoResponse {
    if exporter.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}
