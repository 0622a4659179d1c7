//! The trip services a request works with, as one extractor: the
//! database, cache, trip rules, system accounts and the methodology
//! catalogue of the moment the request came. Handlers of any domain that
//! log, decide or confirm trips (the trip routes, partner feeds) take it.

use actix_web::web;
use sea_orm::DatabaseConnection;

use super::rules::TripRules;
use super::service::Trips;
use crate::accounts::service::SystemAccounts;
use crate::cache::Cache;
use crate::error::ApiError;

/// The app's trip services, for handlers that log, decide or credit trips.
pub struct TripDeps {
    db: web::Data<DatabaseConnection>,
    cache: web::Data<Cache>,
    rules: web::Data<TripRules>,
    systems: web::Data<SystemAccounts>,
    /// The catalogue when the request came: one request computes with one.
    catalog: std::sync::Arc<carbon_calc::Catalog>,
}

impl TripDeps {
    pub fn trips(&self) -> Trips<'_> {
        Trips {
            db: &self.db,
            cache: &self.cache,
            rules: &self.rules,
            catalog: &self.catalog,
            systems: &self.systems,
        }
    }
}

impl actix_web::FromRequest for TripDeps {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        fn data<T: 'static>(req: &actix_web::HttpRequest) -> Result<web::Data<T>, ApiError> {
            req.app_data::<web::Data<T>>()
                .cloned()
                .ok_or_else(|| ApiError::internal(std::any::type_name::<T>()))
        }
        std::future::ready((|| {
            Ok(TripDeps {
                db: data(req)?,
                cache: data(req)?,
                rules: data(req)?,
                systems: data(req)?,
                catalog: data::<crate::methodologies::Methodologies>(req)?.current(),
            })
        })())
    }
}
