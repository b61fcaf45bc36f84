//! Reason templates: a forbid policy's `@reason` annotation in plain words, with `{name}`
//! placeholders that writ fills from the request being decided, so a requester reads
//! "requested TTL 30d exceeds the maximum of 1w" rather than a policy id.
//!
//! A placeholder is `{` + a known name + `}`; any other text, braces included, is kept as
//! written. Which names a policy may use depends on the actions it applies to (see
//! [`Placeholder::ALL`] and `Action::placeholders`); an unknown or unavailable name refuses the
//! policy set at load, so a reason is never shown with a hole in it.

/// A value a reason can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// The requester's name.
    Requester,
    /// The identity's name.
    Identity,
    /// The identity's kind (`ci_token`).
    IdentityKind,
    /// The identity's status (`suspended`).
    IdentityStatus,
    /// The identity owner's name.
    Owner,
    /// The identity's team, or `no team recorded`.
    Team,
    /// The request kind (`grant`).
    Kind,
    /// The requested end date, or `none`.
    End,
    /// The entitlement's name, or `none` (for an approval of a request without one).
    Entitlement,
    /// The entitlement's system's name.
    System,
    /// The entitlement's risk (`high`).
    Risk,
    /// The entitlement's environment (`production`).
    Environment,
    /// The TTL asked for, else the entitlement's default (`30d`).
    Ttl,
    /// The entitlement's maximum TTL.
    MaxTtl,
    /// The entitlement's break-glass maximum TTL, or `none`.
    BreakGlassMaxTtl,
    /// The identity kinds the entitlement allows, comma-separated.
    AllowedKinds,
    /// The separation-of-duties rules the request would break, with scope and severity.
    SodRules,
    /// The new owner's name (`transfer`).
    NewOwner,
    /// The approver's name.
    Approver,
    /// The approval stage's name.
    Stage,
    /// Who may decide the stage, in words (`a member of group `security``).
    StageRule,
}

impl Placeholder {
    /// Every placeholder.
    pub const ALL: [Placeholder; 21] = [
        Placeholder::Requester,
        Placeholder::Identity,
        Placeholder::IdentityKind,
        Placeholder::IdentityStatus,
        Placeholder::Owner,
        Placeholder::Team,
        Placeholder::Kind,
        Placeholder::End,
        Placeholder::Entitlement,
        Placeholder::System,
        Placeholder::Risk,
        Placeholder::Environment,
        Placeholder::Ttl,
        Placeholder::MaxTtl,
        Placeholder::BreakGlassMaxTtl,
        Placeholder::AllowedKinds,
        Placeholder::SodRules,
        Placeholder::NewOwner,
        Placeholder::Approver,
        Placeholder::Stage,
        Placeholder::StageRule,
    ];

    /// The name written between braces.
    pub const fn name(self) -> &'static str {
        match self {
            Placeholder::Requester => "requester",
            Placeholder::Identity => "identity",
            Placeholder::IdentityKind => "identity_kind",
            Placeholder::IdentityStatus => "identity_status",
            Placeholder::Owner => "owner",
            Placeholder::Team => "team",
            Placeholder::Kind => "kind",
            Placeholder::End => "end",
            Placeholder::Entitlement => "entitlement",
            Placeholder::System => "system",
            Placeholder::Risk => "risk",
            Placeholder::Environment => "environment",
            Placeholder::Ttl => "ttl",
            Placeholder::MaxTtl => "max_ttl",
            Placeholder::BreakGlassMaxTtl => "break_glass_max_ttl",
            Placeholder::AllowedKinds => "allowed_kinds",
            Placeholder::SodRules => "sod_rules",
            Placeholder::NewOwner => "new_owner",
            Placeholder::Approver => "approver",
            Placeholder::Stage => "stage",
            Placeholder::StageRule => "stage_rule",
        }
    }

    fn from_name(name: &str) -> Option<Placeholder> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A parsed `@reason`: literal text and placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReasonTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Placeholder),
}

impl ReasonTemplate {
    /// Parses `text`; an unknown placeholder name is refused, naming it.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
                .count();
            if name_len > 0 && after.as_bytes().get(name_len) == Some(&b'}') {
                let name = &after[..name_len];
                let placeholder = Placeholder::from_name(name)
                    .ok_or_else(|| format!("reason uses the unknown placeholder `{{{name}}}`"))?;
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Value(placeholder));
                rest = &after[name_len + 1..];
            } else {
                literal.push('{');
                rest = after;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self { parts })
    }

    /// The placeholders used, in order.
    pub(crate) fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Value(p) => Some(*p),
            Part::Text(_) => None,
        })
    }

    /// The reason with each placeholder replaced by `value(placeholder)`.
    pub(crate) fn render(&self, value: &dyn Fn(Placeholder) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Value(p) => out.push_str(&value(*p)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(p: Placeholder) -> String {
        match p {
            Placeholder::Ttl => "30d".into(),
            Placeholder::MaxTtl => "1w".into(),
            other => format!("<{}>", other.name()),
        }
    }

    #[test]
    fn fills_placeholders_with_the_request_values() {
        let template =
            ReasonTemplate::parse("requested TTL {ttl} exceeds the maximum of {max_ttl}").unwrap();
        assert_eq!(
            template.render(&fill),
            "requested TTL 30d exceeds the maximum of 1w"
        );
        assert_eq!(
            template.placeholders().collect::<Vec<_>>(),
            vec![Placeholder::Ttl, Placeholder::MaxTtl]
        );
    }

    #[test]
    fn keeps_braces_that_are_not_placeholders() {
        let template = ReasonTemplate::parse("a {b c} {} {Ttl} {ttl").unwrap();
        assert_eq!(template.render(&fill), "a {b c} {} {Ttl} {ttl");
        assert_eq!(template.placeholders().count(), 0);
    }

    #[test]
    fn refuses_an_unknown_placeholder_naming_it() {
        let err = ReasonTemplate::parse("too long: {duration}").unwrap_err();
        assert_eq!(err, "reason uses the unknown placeholder `{duration}`");
    }

    #[test]
    fn every_placeholder_is_found_by_its_name() {
        for p in Placeholder::ALL {
            assert_eq!(Placeholder::from_name(p.name()), Some(p));
        }
    }
}
