//! Typed record ids: a service declares each of its UUID-keyed records' ids with
//! [`uuid_id!`](crate::uuid_id) (also `tessera_edge::uuid_id!`), so a referral's id cannot be passed where a pathway's is
//! wanted. Each parses from text, shows as its UUID and serialises as a string. None converts
//! to a SQL value by itself: a statement binds `id.as_uuid()` for a `uuid` column or
//! `id.to_string()` for a `text` one (the services that only reference the MPI's patients keep
//! its ids as text), so no id is bound as the wrong type silently.
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(::uuid::Uuid);

        impl $name {
            /// A new id (UUID v7: ordered by creation).
            pub fn new() -> Self {
                Self(::uuid::Uuid::now_v7())
            }

            /// The id in `s`, if it is a UUID.
            pub fn parse(s: &str) -> Option<Self> {
                ::uuid::Uuid::parse_str(s.trim()).ok().map(Self)
            }

            pub fn as_uuid(self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(u: ::uuid::Uuid) -> Self {
                Self(u)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::uuid_id!(
        /// A test record's id.
        ThingId
    );
    crate::uuid_id!(OtherId);

    #[test]
    fn ids_parse_show_and_bind_as_their_uuid() {
        let u = uuid::Uuid::now_v7();
        let id = ThingId::parse(&format!(" {u} ")).unwrap_or_default();
        assert_eq!(id.as_uuid(), u);
        assert_eq!(id.to_string(), u.to_string());
        assert_eq!(
            serde_json::to_value(id).ok(),
            Some(serde_json::json!(u.to_string()))
        );
        assert!(ThingId::parse("not-a-uuid").is_none());
        // Distinct types: `OtherId::from(id)` does not compile; the same UUID is another id.
        assert_eq!(OtherId::from(u).as_uuid(), id.as_uuid());
        assert_eq!(
            OtherId::parse(&u.to_string()).map(OtherId::as_uuid),
            Some(u)
        );
    }
}
