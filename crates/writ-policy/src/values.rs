//! The values that fill reason placeholders, taken from the facts of the decision at hand.
//! Only refusals are rendered, so an allowed decision pays nothing for them.

use writ_domain::{ApprovalStage, Ttl};

use crate::facts::{PrincipalFacts, RequestFacts, SodConflict};
use crate::reason::Placeholder;
use crate::stages::describe_rule;

/// The facts a reason can name.
pub(crate) struct ReasonValues<'a> {
    pub request: &'a RequestFacts,
    pub sod_conflicts: &'a [SodConflict],
    pub approver: Option<&'a PrincipalFacts>,
    pub stage: Option<&'a ApprovalStage>,
}

const NONE: &str = "none";

fn ttl_text(ttl: Option<Ttl>) -> String {
    ttl.map_or_else(|| NONE.to_owned(), |t| t.to_string())
}

impl ReasonValues<'_> {
    /// The text that replaces `placeholder`.
    pub(crate) fn value(&self, placeholder: Placeholder) -> String {
        let request = self.request;
        let entitlement = request.entitlement.as_ref();
        match placeholder {
            Placeholder::Requester => request.requester.name.clone(),
            Placeholder::Identity => request.identity.name.to_string(),
            Placeholder::IdentityKind => request.identity.kind.to_string(),
            Placeholder::IdentityStatus => request.identity.status.to_string(),
            Placeholder::Owner => request.identity.owner.name.clone(),
            Placeholder::Team => request
                .identity
                .team
                .clone()
                .unwrap_or_else(|| "no team recorded".to_owned()),
            Placeholder::Kind => request.kind.to_string(),
            Placeholder::End => request
                .end
                .map_or_else(|| NONE.to_owned(), |end| end.to_string()),
            Placeholder::Entitlement => {
                entitlement.map_or_else(|| NONE.to_owned(), |e| e.name.to_string())
            }
            Placeholder::System => {
                entitlement.map_or_else(|| NONE.to_owned(), |e| e.system.to_string())
            }
            Placeholder::Risk => {
                entitlement.map_or_else(|| NONE.to_owned(), |e| e.risk.to_string())
            }
            Placeholder::Environment => {
                entitlement.map_or_else(|| NONE.to_owned(), |e| e.environment.to_string())
            }
            Placeholder::Ttl => ttl_text(request.effective_ttl()),
            Placeholder::MaxTtl => ttl_text(entitlement.map(|e| e.ttl.max_ttl())),
            Placeholder::BreakGlassMaxTtl => {
                ttl_text(entitlement.and_then(|e| e.break_glass).map(|b| b.max_ttl))
            }
            Placeholder::AllowedKinds => entitlement.map_or_else(
                || NONE.to_owned(),
                |e| {
                    let kinds: Vec<&str> = e
                        .allowed_kinds_or_all()
                        .iter()
                        .map(|k| k.as_str())
                        .collect();
                    kinds.join(", ")
                },
            ),
            Placeholder::SodRules => {
                let rules: Vec<String> = self
                    .sod_conflicts
                    .iter()
                    .map(|c| {
                        format!(
                            "rule `{}` (scope {}, severity {})",
                            c.name, c.scope, c.severity
                        )
                    })
                    .collect();
                if rules.is_empty() {
                    NONE.to_owned()
                } else {
                    rules.join("; ")
                }
            }
            Placeholder::NewOwner => request
                .new_owner
                .as_ref()
                .map_or_else(|| NONE.to_owned(), |p| p.name.clone()),
            Placeholder::Approver => self
                .approver
                .map_or_else(|| NONE.to_owned(), |p| p.name.clone()),
            Placeholder::Stage => self
                .stage
                .map_or_else(|| NONE.to_owned(), |s| s.name.to_string()),
            Placeholder::StageRule => self
                .stage
                .map_or_else(|| NONE.to_owned(), |s| describe_rule(&s.approvers, request)),
        }
    }
}
