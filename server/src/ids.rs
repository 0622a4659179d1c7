//! Identifiers that are all UUID text in the database but must never be
//! swapped: a user's id where an account's is expected compiles as a
//! `&str` and fails only at run time (or, worse, finds nothing). Service
//! functions that take more than one kind of id take these; each derefs to
//! `str` for queries and formatting, so reading one is free and building one
//! is the deliberate step.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&$name> for sea_orm::Value {
            fn from(id: &$name) -> Self {
                id.0.clone().into()
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(id: $name) -> Self {
                id.0.into()
            }
        }
    };
}

id_type!(
    /// A user (`users.id`): a person or a member of staff.
    UserId
);
id_type!(
    /// A carbon account (`accounts.id`): personal, organisation or system.
    AccountId
);
id_type!(
    /// A logged trip (`trips.id`).
    TripId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_their_text_and_compare_by_it() {
        let user = UserId::new("0190b6c8-0000-7000-8000-000000000001");
        assert_eq!(
            serde_json::to_string(&user).unwrap(),
            "\"0190b6c8-0000-7000-8000-000000000001\""
        );
        assert_eq!(&*user, "0190b6c8-0000-7000-8000-000000000001");
        assert_eq!(user.to_string(), user.as_str());
        let back: UserId = serde_json::from_str("\"x\"").unwrap();
        assert_eq!(back, UserId::new("x"));
        assert_eq!(
            sea_orm::Value::from(&back),
            sea_orm::Value::from("x".to_string())
        );
    }
}
