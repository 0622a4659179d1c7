//! Rate limits: fixed one-minute windows counted per key (the client's IP
//! for the `/api/v1/auth/` routes, against password guessing). The IP is the
//! TCP peer: behind a reverse proxy every client shares the proxy's address
//! until trusted-proxy support arrives with the rest of the rate limits. Counted in process for now; the Redis-backed cache of the
//! server's later part will count across replicas behind the same interface.

use std::collections::HashMap;
use std::future::{ready, Future, Ready};
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::StatusCode;
use actix_web::{Error, HttpResponse, ResponseError};

use crate::error::ApiError;

const WINDOW: Duration = Duration::from_secs(60);
/// Routes counted by [`PerIpLimit`].
pub const LIMITED_PREFIX: &str = "/api/v1/auth/";

/// Counts hits per key in the current window.
#[derive(Default)]
pub struct WindowCounter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl WindowCounter {
    /// Counts one hit; `Err(retry_after)` when `limit` is exceeded.
    pub fn hit(&self, key: &str, limit: u32, now: Instant) -> Result<(), Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            // Bound memory under address scanning: forget finished windows.
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            Err(WINDOW.saturating_sub(now.duration_since(entry.0)))
        } else {
            Ok(())
        }
    }
}

/// Middleware limiting requests per client IP to `per_minute`.
#[derive(Clone)]
pub struct PerIpLimit {
    pub per_minute: u32,
    pub counter: Arc<WindowCounter>,
}

impl<S, B> Transform<S, ServiceRequest> for PerIpLimit
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = PerIpLimitService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(PerIpLimitService {
            service: Rc::new(service),
            limit: self.clone(),
        }))
    }
}

pub struct PerIpLimitService<S> {
    service: Rc<S>,
    limit: PerIpLimit,
}

impl<S, B> Service<ServiceRequest> for PerIpLimitService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if !req.path().starts_with(LIMITED_PREFIX) {
            let fut = self.service.call(req);
            return Box::pin(async move { Ok(fut.await?.map_into_left_body()) });
        }
        let ip: Option<IpAddr> = req.peer_addr().map(|a| a.ip());
        let key = ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        match self
            .limit
            .counter
            .hit(&key, self.limit.per_minute, Instant::now())
        {
            Ok(()) => {
                let fut = self.service.call(req);
                Box::pin(async move { Ok(fut.await?.map_into_left_body()) })
            }
            Err(retry_after) => {
                let secs = retry_after.as_secs().max(1);
                let mut res: HttpResponse = ApiError::TooManyRequests {
                    detail: format!("too many requests from this address; retry in {secs} s"),
                }
                .error_response();
                debug_assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
                if let Ok(value) = secs.to_string().parse() {
                    res.headers_mut()
                        .insert(actix_web::http::header::RETRY_AFTER, value);
                }
                Box::pin(async move { Ok(req.into_response(res).map_into_right_body()) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_and_reset() {
        let c = WindowCounter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(c.hit("a", 3, t0).is_ok());
        }
        let retry = c.hit("a", 3, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(retry.as_secs(), 40);
        assert!(c.hit("b", 3, t0).is_ok(), "keys are independent");
        assert!(
            c.hit("a", 3, t0 + WINDOW).is_ok(),
            "a new window starts over"
        );
    }
}
