//! The access service's own rules, no I/O (the access decision itself is
//! `libs/access-core`'s): what origin an AccessReasonCode gives a relationship claimed by
//! hand, and whom such a claim may be for.
use tessera_edge::problem::FieldError;

tessera_edge::uuid_id!(
    /// A legitimate relationship.
    RelationshipId
);
tessera_edge::uuid_id!(
    /// An alert in the privacy officer's queue.
    AlertId
);
tessera_edge::uuid_id!(
    /// A consent directive (a nomination, a sharing choice).
    DirectiveId
);

/// A user id or team code: 1–64 printable characters without spaces.
pub fn code(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() || t.len() > 64 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(
            field,
            "format",
            "1–64 characters, no spaces",
        ));
    }
    Ok(t.to_string())
}

/// The origin an AccessReasonCode gives a manual relationship (MIM 3.1.09).
pub fn origin_of(reason_code: &str) -> Option<&'static str> {
    let n: u8 = reason_code
        .parse()
        .ok()
        .filter(|_| reason_code.len() == 2)?;
    match n {
        1..=6 => Some("self-claimed"),
        7..=14 => Some("patient-consent"),
        15..=17 => Some("colleague-granted"),
        _ => None,
    }
}

/// Who a claimed relationship is for: a self-claimed one (01–06) only for the claimant; a
/// patient-consent one (07–14) for the claimant or one named user or team; a
/// colleague-granted one (15–17) for exactly one named user or team.
pub fn holder(
    origin: &'static str,
    me: &str,
    user_id: Option<&str>,
    team: Option<&str>,
) -> Result<(Option<String>, Option<String>), FieldError> {
    let me = me.to_string();
    match (origin, user_id, team) {
        ("self-claimed", None, None) => Ok((Some(me.clone()), None)),
        ("self-claimed", Some(u), None) if u == me => Ok((Some(me.clone()), None)),
        ("self-claimed", _, _) => Err(FieldError::new(
            "user_id",
            "self-claimed",
            "reason codes 01–06 claim for yourself: leave user_id and team out",
        )),
        (_, Some(u), None) => code("user_id", u).map(|u| (Some(u), None)),
        (_, None, Some(t)) => code("team", t).map(|t| (None, Some(t))),
        ("patient-consent", None, None) => Ok((Some(me.clone()), None)),
        _ => Err(FieldError::new(
            "user_id",
            "holder",
            "name exactly one of user_id or team for a colleague-granted relationship",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_give_origins() {
        assert_eq!(origin_of("01"), Some("self-claimed"));
        assert_eq!(origin_of("06"), Some("self-claimed"));
        assert_eq!(origin_of("07"), Some("patient-consent"));
        assert_eq!(origin_of("14"), Some("patient-consent"));
        assert_eq!(origin_of("15"), Some("colleague-granted"));
        assert_eq!(origin_of("17"), Some("colleague-granted"));
        for bad in ["00", "18", "1", "001", "ab", ""] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_claim_is_for_whom_its_origin_allows() {
        assert_eq!(
            holder("self-claimed", "u1", None, None),
            Ok((Some("u1".into()), None))
        );
        assert_eq!(
            holder("self-claimed", "u1", Some("u1"), None),
            Ok((Some("u1".into()), None))
        );
        assert!(
            holder("self-claimed", "u1", Some("u2"), None).is_err_and(|e| e.code == "self-claimed")
        );
        assert_eq!(
            holder("patient-consent", "u1", None, None),
            Ok((Some("u1".into()), None))
        );
        assert_eq!(
            holder("colleague-granted", "u1", None, Some("T1")),
            Ok((None, Some("T1".into())))
        );
        assert!(holder("colleague-granted", "u1", None, None).is_err_and(|e| e.code == "holder"));
        assert!(
            holder("colleague-granted", "u1", Some("a b"), None).is_err_and(|e| e.code == "format")
        );
    }
}
