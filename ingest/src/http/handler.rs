//! One request: a TLS-RPT POST checked, parsed, published, answered; a GET
//! (or HEAD) answered from the hosted pages.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};

use super::Shared;
use crate::Undelivered;
use dmarcflow_bus::Publish;

/// How long a request may wait for room in the memory budget before the
/// answer is 503.
const BUDGET_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// The body's bytes are reserved at least this many at a time.
const BODY_CHUNK: u64 = 64 << 10;

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
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return Ok(page(&request, shared.config.pages.as_deref()));
    }
    Ok(match respond(request, peer, shared).await {
        Ok(text) => answer(StatusCode::OK, &text),
        Err((status, text)) => answer(status, &text),
    })
}

/// A hosted page by the request's host (the Host header, or the absolute
/// URI's) and path; 404 naming nothing otherwise.
fn page(request: &Request<Incoming>, pages: Option<&super::pages::Pages>) -> Response<Full<Bytes>> {
    let host = request
        .uri()
        .host()
        .map(str::to_owned)
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let Some(found) = pages.and_then(|p| p.get(&host, request.uri().path())) else {
        return answer(StatusCode::NOT_FOUND, "not found");
    };
    let body = if request.method() == Method::HEAD {
        Bytes::new()
    } else {
        found.body.clone()
    };
    let mut response = Response::new(Full::new(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(found.content_type),
    );
    if request.method() == Method::HEAD {
        response.headers_mut().insert(
            header::CONTENT_LENGTH,
            header::HeaderValue::from(found.body.len()),
        );
    }
    response
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    if status == StatusCode::REQUEST_TIMEOUT {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
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
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    // Room for the body as declared (a chunked one: as it arrives) and for
    // parsing it, promised before it is read, as the SMTP listener does;
    // grown to the whole body's working room once it is read.
    let mut held = shared.budget.empty();
    let first = shared.working_bytes(declared.unwrap_or(0));
    if !held.grow(first, Some(BUDGET_WAIT)).await {
        return Err(busy());
    }
    let body = body(request.into_body(), limit, &shared.config, &mut held).await?;
    let working = shared.working_bytes(body.len() as u64);
    if !held
        .grow(working.saturating_sub(held.bytes()), Some(BUDGET_WAIT))
        .await
    {
        return Err(busy());
    }
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

/// The answer to a body over `limit` bytes.
fn too_large(limit: usize) -> (StatusCode, String) {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the limit is {limit} bytes"),
    )
}

/// The answer when the memory budget has no room for a report.
fn busy() -> (StatusCode, String) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "too many reports in flight; try again later".to_owned(),
    )
}

/// Reads a body of at most `limit` bytes at no less than the minimum rate:
/// the n-th byte must have arrived `body_grace + n / min_body_rate`
/// seconds after the head (a slow start is forgiven, a trickle is not).
async fn body(
    mut body: Incoming,
    limit: usize,
    config: &super::HttpConfig,
    held: &mut dmarcflow_listen::Reservation,
) -> Result<Bytes, (StatusCode, String)> {
    let started = tokio::time::Instant::now();
    let rate = config.min_body_rate;
    let mut data = Vec::new();
    loop {
        let frame = match rate {
            0 => body.frame().await,
            _ => {
                let due = started
                    + config.body_grace
                    + std::time::Duration::from_secs_f64((data.len() + 1) as f64 / rate as f64);
                match tokio::time::timeout_at(due, body.frame()).await {
                    Ok(frame) => frame,
                    Err(_) => {
                        dmarcflow_listen::timed_out(super::LISTENER, "body");
                        return Err((
                            StatusCode::REQUEST_TIMEOUT,
                            format!("the body came slower than {rate} bytes a second"),
                        ));
                    }
                }
            }
        };
        match frame {
            None => return Ok(Bytes::from(data)),
            Some(Err(_)) => {
                return Err((StatusCode::BAD_REQUEST, "the body could not be read".into()))
            }
            Some(Ok(frame)) => {
                if let Ok(chunk) = frame.into_data() {
                    if data.len() + chunk.len() > limit {
                        return Err(too_large(limit));
                    }
                    let size = (data.len() + chunk.len()) as u64;
                    if size > held.bytes() {
                        let more = (size - held.bytes()).max(BODY_CHUNK);
                        if !held.grow(more, Some(BUDGET_WAIT)).await {
                            return Err(busy());
                        }
                    }
                    data.extend_from_slice(&chunk);
                }
            }
        }
    }
}
