//! The methodology catalogue the server computes with and publishes, as
//! app data ([`Methodologies`]) handed to handlers and services.
//!
//! The catalogue lives in the database as the documents it was loaded from
//! (`methodology_documents`, in order): the tables built into this release
//! (stored at start when this build's are not yet there) and those an
//! administrator loads (`tanpuhui methodologies load FILE`). Replaying them
//! through the catalogue's own version rules (a higher version replaces,
//! the same version must have the same content, an older one is ignored)
//! rebuilds it at every start, so a running deployment takes a new table
//! version without a rebuild. Replicas pick up documents stored by others
//! every `methodology_refresh_secs`.

use std::sync::{Arc, RwLock};

use carbon_calc::methodology::{CatalogDocument, LoadReport};
use carbon_calc::Catalog;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "methodology_documents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub sha256: String,
        /// `built_in` or `admin`.
        pub source: String,
        pub loaded_by: Option<String>,
        pub content: String,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, thiserror::Error)]
pub enum MethodologyError {
    /// The document does not load into the catalogue (shape, a changed
    /// published version, an inconsistent table).
    #[error("{0}")]
    Refused(carbon_calc::error::CalcError),
    /// A stored document no longer loads: the database and the catalogue's
    /// rules disagree (a built-in table changed without a new version).
    #[error("stored methodology document {id} does not load: {cause}")]
    Stored {
        id: i64,
        cause: carbon_calc::error::CalcError,
    },
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// The catalogue now served, and how far into the stored documents it is.
#[derive(Clone)]
pub struct Methodologies(Arc<RwLock<Served>>);

struct Served {
    catalog: Arc<Catalog>,
    last_document: i64,
}

const BUILT_IN: &str = "built_in";
const ADMIN: &str = "admin";

fn digest(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// The tables built into this release, as one document.
fn built_in_document() -> String {
    serde_json::to_string(&Catalog::builtin().document()).expect("a catalogue document serialises")
}

impl Methodologies {
    /// At start: stores this release's built-in tables unless they are
    /// stored already, then replays every stored document.
    pub async fn prepare(
        db: &DatabaseConnection,
        now: Timestamp,
    ) -> Result<Methodologies, MethodologyError> {
        let content = built_in_document();
        let txn = crate::db::begin_write(db).await?;
        crate::db::lock_named(&txn, "methodology_documents").await?;
        let known = entity::Entity::find()
            .filter(entity::Column::Sha256.eq(digest(&content)))
            .one(&txn)
            .await?;
        if known.is_none() {
            store(&txn, &content, BUILT_IN, None, now).await?;
        }
        txn.commit().await?;
        let served = Methodologies(Arc::new(RwLock::new(Served {
            catalog: Arc::new(Catalog::empty()),
            last_document: 0,
        })));
        served.refresh(db).await?;
        Ok(served)
    }

    /// The catalogue as it is now; a later load does not change it.
    pub fn current(&self) -> Arc<Catalog> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .catalog
            .clone()
    }

    /// Loads the documents stored since the last look (by this replica or
    /// another); answers how many.
    pub async fn refresh(&self, db: &impl ConnectionTrait) -> Result<usize, MethodologyError> {
        let (catalog, after) = {
            let served = self.0.read().unwrap_or_else(|e| e.into_inner());
            (served.catalog.clone(), served.last_document)
        };
        let rows = entity::Entity::find()
            .filter(entity::Column::Id.gt(after))
            .order_by_asc(entity::Column::Id)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut next = (*catalog).clone();
        let mut last = after;
        for row in &rows {
            next.load_json(&row.content)
                .map_err(|cause| MethodologyError::Stored { id: row.id, cause })?;
            last = row.id;
        }
        let mut served = self.0.write().unwrap_or_else(|e| e.into_inner());
        // Another refresh may have got further meanwhile; keep the furthest.
        if served.last_document < last {
            served.catalog = Arc::new(next);
            served.last_document = last;
        }
        Ok(rows.len())
    }

    /// An administrator's document: checked against every stored document,
    /// stored, then served. Answers what it changed.
    pub async fn load(
        &self,
        db: &DatabaseConnection,
        text: &str,
        loaded_by: Option<&str>,
        now: Timestamp,
    ) -> Result<LoadReport, MethodologyError> {
        // Parsed and re-serialised, so the stored document is the
        // catalogue's shape whatever the file's spacing.
        let document: CatalogDocument = serde_json::from_str(text).map_err(|e| {
            MethodologyError::Refused(carbon_calc::CalcError::new(
                carbon_calc::ErrorCode::InvalidMethodology,
                "",
                e.to_string(),
            ))
        })?;
        let content = serde_json::to_string(&document).expect("a catalogue document serialises");
        let txn = crate::db::begin_write(db).await?;
        crate::db::lock_named(&txn, "methodology_documents").await?;
        // Everything stored before, including what other replicas stored.
        self.refresh(&txn).await?;
        let mut next = (*self.current()).clone();
        let report = next.load(document).map_err(MethodologyError::Refused)?;
        let nothing_new = report.added.is_empty()
            && report.replaced.is_empty()
            && self.current().default_preset_id() == next.default_preset_id();
        if !nothing_new {
            store(&txn, &content, ADMIN, loaded_by, now).await?;
        }
        txn.commit().await?;
        self.refresh(db).await?;
        Ok(report)
    }
}

async fn store(
    db: &impl ConnectionTrait,
    content: &str,
    source: &str,
    loaded_by: Option<&str>,
    now: Timestamp,
) -> Result<(), DbErr> {
    entity::ActiveModel {
        sha256: Set(digest(content)),
        source: Set(source.to_string()),
        loaded_by: Set(loaded_by.map(str::to_string)),
        content: Set(content.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
