//! The one spelling in which identities are compared and stored: what
//! identifies a project's reductions outside this registry (a meter, a
//! parcel, another mechanism's registration). Two spellings of one thing
//! must collide, or the same reductions could be registered twice: letter
//! case, full-width forms (`ＧＬ－２０２１`, common from Chinese input
//! methods), dash variants and white space are not part of an identity.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use unicode_normalization::UnicodeNormalization;

use super::entity::{identity, project};

/// `text` in canonical form: NFKC (full-width letters, digits and
/// punctuation become ASCII), every dash as `-`, lower case, no white space.
pub fn canonical(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// A parcel's identity: the region and the parcel's id, canonical.
pub fn parcel(region_code: &str, parcel_id: &str) -> String {
    canonical(&format!("parcel:{region_code}:{parcel_id}"))
}

/// Two stored identities that are one after canonicalisation, claimed by
/// two projects: double counting that predates the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub canonical: String,
    pub kept: (String, String),
    pub left: (String, String),
}

/// Brings stored identities to canonical form (run at every start, after
/// the schema migrations; does nothing once done). Where two projects'
/// identities collide, the first project (by id, which is time-ordered)
/// keeps the canonical claim and the other's row stays as it was, so that
/// nothing is lost; every collision is answered (and logged by the caller)
/// until the service centre resolves it.
pub async fn canonicalise_stored(db: &impl ConnectionTrait) -> Result<Vec<Collision>, DbErr> {
    let mut rows = identity::Entity::find().all(db).await?;
    rows.sort_by(|a, b| {
        a.project_id
            .cmp(&b.project_id)
            .then(a.identity.cmp(&b.identity))
    });
    let mut collisions = Vec::new();
    let mut touched = std::collections::BTreeSet::new();
    for row in &rows {
        let wanted = canonical(&row.identity);
        if wanted == row.identity {
            continue;
        }
        let holder = identity::Entity::find_by_id(wanted.clone()).one(db).await?;
        match holder {
            Some(h) if h.project_id != row.project_id => {
                collisions.push(Collision {
                    canonical: wanted,
                    kept: (h.project_id, h.identity),
                    left: (row.project_id.clone(), row.identity.clone()),
                });
            }
            Some(_) => {
                // The project already holds the canonical spelling.
                identity::Entity::delete_by_id(row.identity.clone())
                    .exec(db)
                    .await?;
                touched.insert(row.project_id.clone());
            }
            None => {
                identity::Entity::update_many()
                    .col_expr(identity::Column::Identity, Expr::value(wanted))
                    .filter(identity::Column::Identity.eq(row.identity.as_str()))
                    .exec(db)
                    .await?;
                touched.insert(row.project_id.clone());
            }
        }
    }
    // The projects' own lists (shown on public pages) follow.
    for id in touched {
        if let Some(p) = project::Entity::find_by_id(id.clone()).one(db).await? {
            let list: Vec<String> = serde_json::from_str(&p.identities).unwrap_or_default();
            let mut canon: Vec<String> = list.iter().map(|i| canonical(i)).collect();
            canon.sort();
            canon.dedup();
            project::Entity::update_many()
                .col_expr(
                    project::Column::Identities,
                    Expr::value(serde_json::to_string(&canon).expect("strings serialise")),
                )
                .filter(project::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
    }
    Ok(collisions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_per_identity() {
        for spelling in [
            "parcel:620100:GL-2021-0007",
            "parcel:620100:gl-2021-0007",
            "parcel:620100:ＧＬ－２０２１－０００７",
            "parcel:620100: GL‐2021‐0007 ",
            "PARCEL:620100:GL\u{3000}-2021-0007",
            "parcel：620100：gl−2021−0007",
        ] {
            assert_eq!(
                canonical(spelling),
                "parcel:620100:gl-2021-0007",
                "{spelling:?}"
            );
        }
        assert_eq!(parcel("620100", "LZ-0001"), "parcel:620100:lz-0001");
        assert_ne!(canonical("meter:A1"), canonical("meter:A7"));
    }
}
