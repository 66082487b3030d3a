//! One TLS-RPT POST: checked, parsed, published, answered.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};

use super::Shared;
use crate::Undelivered;
use dmarcflow_bus::Publish;

/// How long a request may wait for room in the memory budget before the
/// answer is 503.
const BUDGET_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

const ACCEPTED: &[&str] = &[
    "application/tlsrpt+gzip",
    "application/tlsrpt+json",
    // Seen from senders that label loosely.
    "application/json",
    "application/gzip",
];

pub async fn handle<P: Publish>(
    request: Request<Incoming>,
    peer: &str,
    shared: &Arc<Shared<P>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match respond(request, peer, shared).await {
        Ok(text) => answer(StatusCode::OK, &text),
        Err((status, text)) => answer(status, &text),
    })
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    }
    response
}

async fn respond<P: Publish>(
    request: Request<Incoming>,
    peer: &str,
    shared: &Arc<Shared<P>>,
) -> Result<String, (StatusCode, String)> {
    if request.method() != Method::POST {
        return Err((StatusCode::METHOD_NOT_ALLOWED, "POST a TLS report".into()));
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !ACCEPTED.contains(&content_type.as_str()) {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected application/tlsrpt+gzip or application/tlsrpt+json".into(),
        ));
    }
    let limit = shared.config.max_body_bytes;
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the limit is {limit} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Room for the body (as declared, or as large as allowed) and for
    // parsing it, held until the answer.
    let working = shared.working_bytes(declared.unwrap_or(limit as u64));
    let mut held = shared.budget.empty();
    if !held.grow(working, Some(BUDGET_WAIT)).await {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "too many reports in flight; try again later".into(),
        ));
    }
    let body = Limited::new(request.into_body(), limit)
        .collect()
        .await
        .map_err(|_| too_large())?
        .to_bytes();
    crate::source_metrics::received("http", body.len());
    let origin = format!("https:{peer}");
    let received_at = crate::received_now();
    let delivered = shared
        .deliver(
            body,
            origin,
            received_at,
            shared.config.bus_timeout,
            crate::Carrier::Https,
        )
        .await;
    drop(held);
    match delivered {
        Err(Undelivered::Parser) => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error".to_owned(),
        )),
        Err(Undelivered::Bus(e)) => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            format!("report bus unavailable ({e}); try again later"),
        )),
        Ok(done) => match done.rejected.last() {
            Some(r) => Err((
                StatusCode::BAD_REQUEST,
                format!("rejected: {} ({})", r.reason, r.error),
            )),
            None => Ok(done
                .reports
                .iter()
                .map(|id| format!("accepted {id}"))
                .collect::<Vec<_>>()
                .join("\n")),
        },
    }
}
