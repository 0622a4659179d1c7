//! Structured logs: JSON lines in production, text in development; every
//! request's lines carry its request id (tracing-actix-web's root span).

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Closing a request's span writes its access-log line: method, route,
    // status, request id and time taken.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The access log's root span, as tracing-actix-web's default but with
/// `http.client_ip` decided by the trusted-proxy rule (the one rate limits
/// and idempotency use): `X-Forwarded-For` only from trusted proxies.
pub struct AccessSpan;

impl tracing_actix_web::RootSpanBuilder for AccessSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let span = tracing_actix_web::root_span!(request);
        let client =
            match request.app_data::<actix_web::web::Data<crate::rate_limit::TrustedProxies>>() {
                Some(proxies) => proxies.of_request(request.request()),
                None => request
                    .peer_addr()
                    .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string()),
            };
        span.record("http.client_ip", client.as_str());
        span
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
