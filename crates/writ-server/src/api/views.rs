//! Domain values as the API shows them.

use writ_api::{
    ApprovalView, AuditEventView, EntitlementView, ExplanationView, FindingView, GrantView,
    IdentityView, PrincipalView, ReasonView, RequestView, SystemView, TicketView,
};
use writ_core::requests::Explanation;
use writ_domain::audit::AuditEvent;
use writ_domain::{
    Approval, Entitlement, Finding, Grant, Identity, Principal, Request, System, TicketRecord,
};

fn text(value: impl ToString) -> String {
    value.to_string()
}

fn maybe<T: ToString>(value: Option<T>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// A request.
pub(crate) fn request(r: &Request) -> RequestView {
    RequestView {
        id: text(r.id),
        number: text(r.number),
        kind: text(r.kind),
        requester: text(r.requester),
        identity: text(r.identity),
        entitlement: maybe(r.entitlement),
        justification: r.justification.clone(),
        ttl: maybe(r.requested_ttl),
        end: maybe(r.requested_end),
        new_owner: maybe(r.new_owner),
        category: text(r.category),
        status: text(r.status),
        plan_hash: maybe(r.plan_hash),
        created_at: text(r.created_at),
        sla_due: maybe(r.sla_due),
        assignee: maybe(r.assignee),
    }
}

/// One approver's decision.
pub(crate) fn approval(a: &Approval) -> ApprovalView {
    ApprovalView {
        stage: text(&a.stage),
        approver: text(a.approver),
        decision: text(a.decision),
        reason: a.reason.clone(),
        at: text(a.at),
        plan_hash: text(a.plan_hash),
        policy_ids: a.policy_ids.clone(),
    }
}

/// What policy says of a request.
pub(crate) fn explanation(e: &Explanation) -> ExplanationView {
    ExplanationView {
        allowed: e.decision.allowed,
        reasons: e
            .decision
            .reasons
            .iter()
            .map(|r| ReasonView {
                policy_id: r.policy_id.clone(),
                message: r.message.clone(),
            })
            .collect(),
        policy_ids: e.decision.policy_ids.clone(),
        stages: e.stages.iter().map(|s| text(&s.name)).collect(),
        category: text(e.category),
    }
}

/// A system (without its connector configuration).
pub(crate) fn system(s: &System) -> SystemView {
    SystemView {
        id: text(s.id),
        name: text(&s.name),
        connector: text(s.connector),
        owner: text(s.owner),
        environment: text(s.environment),
        criticality: text(s.criticality),
    }
}

/// An entitlement.
pub(crate) fn entitlement(e: &Entitlement) -> EntitlementView {
    EntitlementView {
        id: text(e.id),
        system: text(e.system),
        key: text(&e.key),
        name: text(&e.name),
        description: e.description.clone(),
        risk: text(e.risk),
        environment: maybe(e.environment),
        default_ttl: text(e.ttl.default_ttl()),
        max_ttl: text(e.ttl.max_ttl()),
        requestable: e.requestable,
        allowed_identity_kinds: e.allowed_identity_kinds.iter().map(text).collect(),
        break_glass_max_ttl: e.break_glass.map(|b| text(b.max_ttl)),
        owner: text(e.owner),
    }
}

/// An identity.
pub(crate) fn identity(i: &Identity) -> IdentityView {
    IdentityView {
        id: text(i.id),
        name: text(&i.name),
        kind: text(i.kind),
        owner: text(i.owner),
        team: i.team.clone(),
        purpose: i.purpose.clone(),
        environment: text(i.environment),
        status: text(i.status),
        created_at: text(i.created_at),
    }
}

/// A principal.
pub(crate) fn principal(p: &Principal) -> PrincipalView {
    PrincipalView {
        id: text(p.id),
        email: text(&p.email),
        name: text(&p.name),
        active: p.active,
    }
}

/// A grant.
pub(crate) fn grant(g: &Grant) -> GrantView {
    GrantView {
        id: text(g.id),
        identity: text(g.identity),
        account: text(g.account),
        entitlement: text(g.entitlement),
        request: text(g.request),
        status: text(g.status),
        granted_at: maybe(g.granted_at),
        expires_at: maybe(g.expires_at),
        last_verified_at: maybe(g.last_verified_at),
    }
}

/// A finding of reconciliation.
pub(crate) fn finding(f: &Finding) -> FindingView {
    FindingView {
        id: text(f.id),
        kind: text(f.kind.as_str()),
        status: text(f.status.as_str()),
        system: text(f.system),
        subject: f.subject.clone(),
        identity: maybe(f.identity),
        account_key: maybe(f.account_key.as_ref()),
        entitlement: maybe(f.entitlement),
        entitlement_key: maybe(f.entitlement_key.as_ref()),
        first_seen: text(f.first_seen),
        last_seen: text(f.last_seen),
        count: f.count,
        resolution: f.resolution.clone(),
        accepted_until: maybe(f.accepted_until),
        request: maybe(f.request),
    }
}

/// A received service-desk ticket.
pub(crate) fn ticket(t: &TicketRecord) -> TicketView {
    TicketView {
        id: text(t.id),
        desk: t.reference.system.clone(),
        key: t.reference.key.clone(),
        url: t.reference.url.clone(),
        reporter: t.reporter.clone(),
        entitlement: t.fields.entitlement.clone(),
        identity: t.fields.identity.clone(),
        ttl: t.fields.ttl.clone(),
        justification: t.fields.justification.clone(),
        approvers: t.fields.approvers.clone(),
        outcome: text(t.outcome.as_str()),
        request: maybe(t.request),
        reason: t.reason.clone(),
        received_at: text(t.received_at),
        updated_at: text(t.updated_at),
    }
}

/// An audit event; its data is the JSON text that was hashed, shown parsed.
pub(crate) fn audit_event(e: &AuditEvent) -> AuditEventView {
    AuditEventView {
        seq: e.seq,
        at: text(e.at),
        actor: e.actor.clone(),
        action: e.action.clone(),
        subjects: e.subjects.clone(),
        data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::String(e.data.clone())),
        prev_hash: text(e.prev_hash),
        hash: text(e.hash),
    }
}
