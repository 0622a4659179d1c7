//! A person links a transit or bike-share card of a partner so that the
//! partner's records of it reach their account. The number is stored only
//! as a keyed hash and its last four characters; one card, one person.

use crate::problem::ProblemCode;
use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, SqlErr,
};

use super::entity::card;
use super::keys::{is_partner, PartnerError, PartnerSecrets};
use crate::crypto::SecretBox;

/// Cards one person may link.
pub const MAX_CARDS: u64 = 10;

/// Card numbers as printed may carry spaces and hyphens; what is compared
/// is the rest, upper-cased: 4 to 32 letters and digits.
pub fn normalise(card: &str) -> Result<String, PartnerError> {
    let text: String = card
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    if (4..=32).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(text)
    } else {
        Err(PartnerError::Invalid {
            param: "card_id",
            detail: "4 to 32 letters and digits (spaces and hyphens are ignored)".into(),
        })
    }
}

/// The person a partner's card belongs to, if linked.
pub async fn holder(
    db: &impl ConnectionTrait,
    sealer: &SecretBox,
    org_id: &str,
    card_id: &str,
) -> Result<Option<String>, PartnerError> {
    let hash = sealer.card_hash(org_id, &normalise(card_id)?);
    Ok(card::Entity::find()
        .filter(card::Column::OrganizationId.eq(org_id))
        .filter(card::Column::CardHash.eq(hash))
        .one(db)
        .await?
        .map(|c| c.user_id))
}

pub async fn link(
    db: &impl ConnectionTrait,
    secrets: &PartnerSecrets,
    user_id: &crate::ids::UserId,
    org_id: &str,
    card_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<card::Model, PartnerError> {
    let sealer = secrets.enabled()?;
    let number = normalise(card_id)?;
    if !is_partner(db, org_id).await? {
        return Err(PartnerError::Invalid {
            param: "organization_id",
            detail: "not a partner organisation (no trip feed)".into(),
        });
    }
    let linked = card::Entity::find()
        .filter(card::Column::UserId.eq(user_id))
        .count(db)
        .await?;
    if linked >= MAX_CARDS {
        return Err(PartnerError::Conflict {
            code: ProblemCode::TooManyCards,
            detail: format!("at most {MAX_CARDS} cards; unlink one first"),
        });
    }
    card::Entity::insert(card::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(user_id.to_string()),
        organization_id: Set(org_id.to_string()),
        card_hash: Set(sealer.card_hash(org_id, &number)),
        card_last4: Set(number[number.len() - 4..].to_string()),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await
    .map_err(|e| match e.sql_err() {
        // Whose it is stays private.
        Some(SqlErr::UniqueConstraintViolation(_)) => PartnerError::Conflict {
            code: ProblemCode::CardAlreadyLinked,
            detail: "this card is already linked to an account".into(),
        },
        _ => e.into(),
    })
}

/// A page of the person's cards, oldest link first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<card::Model>, bool), PartnerError> {
    Ok(crate::pagination::fetch(
        db,
        card::Entity::find().filter(card::Column::UserId.eq(user_id)),
        card::Column::Id,
        crate::pagination::Order::Ascending,
        after,
        limit,
    )
    .await?)
}

/// Unlinks one of the person's cards; later records of it are not theirs.
pub async fn unlink(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    id: &str,
) -> Result<(), PartnerError> {
    let gone = card::Entity::delete_many()
        .filter(card::Column::Id.eq(id))
        .filter(card::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if gone.rows_affected == 0 {
        return Err(PartnerError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_compared_without_spaces_hyphens_or_case() {
        assert_eq!(
            normalise("6217 0000-1234 abcd").unwrap(),
            "621700001234ABCD"
        );
        assert!(normalise("123").is_err());
        assert!(normalise(&"1".repeat(33)).is_err());
        assert!(normalise("1234_5678").is_err());
    }
}
