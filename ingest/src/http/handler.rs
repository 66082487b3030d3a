//! One TLS-RPT POST: checked, parsed, published, answered.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};

use super::Shared;
use crate::bus::Publish;
use crate::files::Found;

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
    let body = Limited::new(request.into_body(), limit)
        .collect()
        .await
        .map_err(|_| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the limit is {limit} bytes"),
            )
        })?
        .to_bytes();
    crate::bus::received("http", body.len());
    let origin = format!("https:{peer}");
    let received_at = crate::received_now();
    let found = shared
        .source
        .read_message_blocking(body.clone(), origin.clone(), received_at)
        .await
        .ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error".to_owned(),
        ))?;
    let mut outcome: Result<String, (StatusCode, String)> = Ok(String::new());
    for item in &found {
        let sending = async {
            match item {
                Found::Report(r) => shared
                    .publisher
                    .publish(r)
                    .await
                    .map(|()| r.report.id().to_owned()),
                Found::Rejected(r) => shared
                    .publisher
                    .dead_letter(&body, r, received_at)
                    .await
                    .map(|()| format!("rejected: {} ({})", r.reason, r.error)),
            }
        };
        let sent = tokio::time::timeout(shared.config.bus_timeout, sending)
            .await
            .unwrap_or(Err(crate::bus::kafka::BusError::Timeout));
        match (sent, item) {
            (Err(e), _) => {
                shared.publisher.recover();
                return Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("report bus unavailable ({e}); try again later"),
                ));
            }
            (Ok(id), Found::Report(_)) => {
                if let Ok(text) = &mut outcome {
                    text.push_str(&format!("accepted {id}"));
                }
            }
            (Ok(why), Found::Rejected(_)) => outcome = Err((StatusCode::BAD_REQUEST, why)),
        }
    }
    outcome
}
