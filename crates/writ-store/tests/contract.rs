//! The store contract: one suite, run against SQLite always and PostgreSQL when
//! `WRIT_TEST_POSTGRES_URL` is set. Each test gets a fresh database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use writ_domain::audit::{Actor, AuditEvent, ChainWalk, NewAuditEvent, SubjectRef};
use writ_domain::job::{JobPayload, JobState, NewJob};
use writ_domain::{GrantId, JobId, SystemId, Timestamp};
use writ_store::{ClaimRequest, Enqueued, JobFailure, Store, StoreError};
use writ_testkit::TestDb;

/// Generates `sqlite::NAME` and `postgres::NAME` for each contract test `NAME(db)`.
macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(writ_testkit::TestDb::sqlite().await).await;
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = writ_testkit::TestDb::postgres().await {
                    super::$name(db).await;
                }
            })+
        }
    };
}

contract!(
    appends_link_into_one_chain,
    a_bulk_append_is_stored_whole_and_indexed,
    concurrent_appends_stay_linear,
    ranges_and_head_read_exactly_what_was_appended,
    the_audit_table_refuses_updates_and_deletes,
    a_replayed_job_is_recognised_and_queued_once,
    two_concurrent_claimers_never_receive_the_same_job,
    a_job_is_not_claimed_before_it_is_due,
    an_expired_lease_is_claimed_again,
    a_job_retried_past_its_limit_is_dead_lettered_with_an_audit_event,
    a_permanent_failure_dead_letters_at_once,
    a_worker_lost_on_the_last_attempt_is_dead_lettered,
    a_database_from_a_newer_writ_is_refused,
    the_catalog_reads_back_as_written,
    display_names_are_read_for_the_ids_asked_only,
    a_catalog_change_that_breaks_a_reference_writes_nothing,
    the_submit_context_counts_what_is_in_flight,
    concurrent_submissions_get_distinct_numbers,
);

const T0: Timestamp = Timestamp::from_micros(1_767_225_600_000_000);

fn event(n: u64) -> NewAuditEvent {
    NewAuditEvent::new(T0, Actor::system("test"), "test.appended")
        .subject(SubjectRef::new("test", n))
        .data(serde_json::json!({ "n": n }))
}

async fn all_events(store: &dyn Store) -> Vec<AuditEvent> {
    store.audit_page(0, 1_000_000).await.unwrap()
}

fn assert_chain_intact(events: &[AuditEvent]) {
    let mut walk = ChainWalk::default();
    for e in events {
        walk.check(e).unwrap();
    }
}

fn expire_job(at: Timestamp) -> NewJob {
    NewJob::new(
        JobPayload::ExpireGrant {
            grant_id: GrantId::new(),
        },
        at,
    )
}

fn claim(worker: &str, now: Timestamp) -> ClaimRequest<'_> {
    ClaimRequest {
        worker,
        now,
        lease_for: Duration::from_secs(30),
        limit: 10,
    }
}

async fn appends_link_into_one_chain(db: TestDb) {
    let store = db.store();
    let first = store
        .append_audit(vec![event(1), event(2), event(3)])
        .await
        .unwrap();
    let second = store.append_audit(vec![event(4)]).await.unwrap();
    assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(second[0].seq, 4);
    assert_eq!(second[0].prev_hash, first[2].hash);

    let stored = all_events(&*store).await;
    assert_eq!(
        stored,
        [first, second].concat(),
        "read back exactly what was sealed"
    );
    assert_chain_intact(&stored);
    assert_eq!(
        store.audit_page(2, 1).await.unwrap()[0].seq,
        3,
        "pages are keyset by seq"
    );
}

async fn a_bulk_append_is_stored_whole_and_indexed(db: TestDb) {
    // Enough events and subjects that SQLite's combined insert is split into several queries.
    let store = db.store();
    let events: Vec<NewAuditEvent> = (1..=3_000)
        .map(|n| event(n).subject(SubjectRef::new("bulk", n % 7)))
        .collect();
    let sealed = store.append_audit(events).await.unwrap();
    assert_eq!(sealed.len(), 3_000);
    let stored = all_events(&*store).await;
    assert_eq!(stored, sealed, "read back exactly what was sealed");
    assert_chain_intact(&stored);
    let about = store
        .audit_events_about(&["test:3000".to_string(), "bulk:3".to_string()])
        .await
        .unwrap();
    assert_eq!(about.len(), 430, "event 3000 and the 429 with n % 7 == 3");
}

async fn ranges_and_head_read_exactly_what_was_appended(db: TestDb) {
    let store = db.store();
    assert_eq!(store.audit_head().await.unwrap(), None);
    let sealed = store
        .append_audit((1..=25).map(event).collect())
        .await
        .unwrap();
    let range = store.audit_range(5, 12).await.unwrap();
    assert_eq!(
        range,
        sealed[5..12].to_vec(),
        "bulk reads decode every field exactly"
    );
    assert!(store.audit_range(25, 40).await.unwrap().is_empty());
    let last = sealed.last().unwrap();
    assert_eq!(store.audit_head().await.unwrap(), Some((25, last.hash)));
}

async fn concurrent_appends_stay_linear(db: TestDb) {
    let store = db.store();
    let writers: Vec<_> = (0..8u64)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    store.append_audit(vec![event(w * 100 + i)]).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let stored = all_events(&*store).await;
    assert_eq!(stored.len(), 200);
    assert_chain_intact(&stored);
    let written: HashSet<_> = stored.iter().map(|e| e.data.clone()).collect();
    assert_eq!(written.len(), 200, "every append is its own event");
}

async fn the_audit_table_refuses_updates_and_deletes(db: TestDb) {
    db.store().append_audit(vec![event(1)]).await.unwrap();
    for sql in [
        "UPDATE audit_events SET actor = 'x'",
        "DELETE FROM audit_events",
    ] {
        let refused = tokio::spawn({
            let url = db.url().to_string();
            async move { raw_execute(&url, sql).await }
        })
        .await
        .unwrap();
        let err = refused.expect_err("the trigger must refuse");
        assert!(err.contains("append-only"), "{err}");
    }
    assert_eq!(all_events(&*db.store()).await.len(), 1);
}

async fn raw_execute(url: &str, sql: &'static str) -> Result<(), String> {
    use sqlx::Connection;
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

async fn a_replayed_job_is_recognised_and_queued_once(db: TestDb) {
    let store = db.store();
    let job = expire_job(T0);
    let audit = || NewAuditEvent::new(T0, Actor::system("test"), "job.enqueued");
    let first = store.enqueue_job(job.clone(), audit()).await.unwrap();
    let again = store.enqueue_job(job, audit()).await.unwrap();
    assert!(matches!(first, Enqueued::New(_)));
    assert_eq!(again, Enqueued::Replay(first.job_id()));
    assert_eq!(
        all_events(&*store).await.len(),
        1,
        "a replay records nothing new"
    );

    let reconcile = || {
        NewJob::new(
            JobPayload::ReconcileSystem {
                system_id: SystemId::new(),
            },
            T0,
        )
    };
    let a = store.enqueue_job(reconcile(), audit()).await.unwrap();
    let b = store.enqueue_job(reconcile(), audit()).await.unwrap();
    assert_ne!(
        a.job_id(),
        b.job_id(),
        "jobs without a dedupe key are never merged"
    );
}

async fn two_concurrent_claimers_never_receive_the_same_job(db: TestDb) {
    let store = db.store();
    let mut queued = HashSet::new();
    for _ in 0..60 {
        let audit = NewAuditEvent::new(T0, Actor::system("test"), "job.enqueued");
        queued.insert(
            store
                .enqueue_job(expire_job(T0), audit)
                .await
                .unwrap()
                .job_id(),
        );
    }
    let claimers: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|worker| {
            let store: Arc<dyn Store> = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_jobs(ClaimRequest {
                            limit: 3,
                            ..claim(worker, T0)
                        })
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    for claimed in batch {
                        assert_eq!(claimed.job.lease_owner.as_deref(), Some(worker));
                        store.complete_job(&claimed.lease, T0).await.unwrap();
                        mine.push(claimed.job.id);
                    }
                }
            })
        })
        .collect();
    let mut seen: Vec<JobId> = Vec::new();
    for claimer in claimers {
        seen.extend(claimer.await.unwrap());
    }
    let unique: HashSet<_> = seen.iter().copied().collect();
    assert_eq!(seen.len(), unique.len(), "a job was handed to two claimers");
    assert_eq!(unique, queued, "every job was claimed");
}

async fn a_job_is_not_claimed_before_it_is_due(db: TestDb) {
    let store = db.store();
    let later = T0.plus(Duration::from_secs(60));
    let audit = NewAuditEvent::new(T0, Actor::system("test"), "job.enqueued");
    let id = store
        .enqueue_job(expire_job(later), audit)
        .await
        .unwrap()
        .job_id();
    assert!(store.claim_jobs(claim("w", T0)).await.unwrap().is_empty());
    let claimed = store.claim_jobs(claim("w", later)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job.id, id);
    assert_eq!(claimed[0].job.state, JobState::Running);
    assert_eq!(claimed[0].job.attempts, 1);
}

async fn an_expired_lease_is_claimed_again(db: TestDb) {
    let store = db.store();
    let audit = NewAuditEvent::new(T0, Actor::system("test"), "job.enqueued");
    let id = store
        .enqueue_job(expire_job(T0), audit)
        .await
        .unwrap()
        .job_id();
    let first = store
        .claim_jobs(claim("crashed", T0))
        .await
        .unwrap()
        .remove(0);

    let within_lease = T0.plus(Duration::from_secs(29));
    assert!(
        store
            .claim_jobs(claim("other", within_lease))
            .await
            .unwrap()
            .is_empty()
    );

    let after_lease = T0.plus(Duration::from_secs(31));
    let second = store
        .claim_jobs(claim("other", after_lease))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(second.job.id, id);
    assert_eq!(second.job.attempts, 2);
    assert_eq!(second.job.lease_owner.as_deref(), Some("other"));

    let late = store
        .complete_job(&first.lease, after_lease)
        .await
        .unwrap_err();
    assert!(matches!(late, StoreError::LeaseLost { .. }), "{late}");
    store
        .complete_job(&second.lease, after_lease)
        .await
        .unwrap();
    assert_eq!(store.job(id).await.unwrap().unwrap().state, JobState::Done);
}

async fn a_job_retried_past_its_limit_is_dead_lettered_with_an_audit_event(db: TestDb) {
    let store = db.store();
    let job = NewJob {
        max_attempts: 2,
        ..expire_job(T0)
    };
    let audit = NewAuditEvent::new(T0, Actor::system("test"), "job.enqueued");
    let id = store.enqueue_job(job, audit).await.unwrap().job_id();

    let retry_at = T0.plus(Duration::from_secs(5));
    let first = store.claim_jobs(claim("w", T0)).await.unwrap().remove(0);
    let outcome = store
        .fail_job(&first.lease, "target down", retry_at, false, T0)
        .await
        .unwrap();
    assert_eq!(outcome, JobFailure::Retried(retry_at));
    let queued = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (queued.state, queued.last_error.as_deref()),
        (JobState::Queued, Some("target down"))
    );
    assert!(
        store.claim_jobs(claim("w", T0)).await.unwrap().is_empty(),
        "backoff is respected"
    );

    let second = store
        .claim_jobs(claim("w", retry_at))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(second.job.attempts, 2);
    let outcome = store
        .fail_job(&second.lease, "still down", retry_at, false, retry_at)
        .await
        .unwrap();
    assert_eq!(outcome, JobFailure::DeadLettered);
    assert_eq!(store.job(id).await.unwrap().unwrap().state, JobState::Dead);
    assert!(
        store
            .claim_jobs(claim("w", retry_at.plus(Duration::from_secs(3600))))
            .await
            .unwrap()
            .is_empty()
    );

    let events = all_events(&*store).await;
    let dead = events.last().unwrap();
    assert_eq!(dead.action, "job.dead_lettered");
    assert_eq!(dead.subjects, [format!("job:{id}")]);
    assert!(dead.data.contains("still down"), "{}", dead.data);
    assert_chain_intact(&events);
}

async fn a_permanent_failure_dead_letters_at_once(db: TestDb) {
    let store = db.store();
    let audit = NewAuditEvent::new(T0, Actor::system("test"), "job.enqueued");
    let id = store
        .enqueue_job(expire_job(T0), audit)
        .await
        .unwrap()
        .job_id();
    let claimed = store.claim_jobs(claim("w", T0)).await.unwrap().remove(0);
    let outcome = store
        .fail_job(&claimed.lease, "role does not exist", T0, true, T0)
        .await
        .unwrap();
    assert_eq!(outcome, JobFailure::DeadLettered);
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Dead, 1));
}

async fn a_worker_lost_on_the_last_attempt_is_dead_lettered(db: TestDb) {
    let store = db.store();
    let job = NewJob {
        max_attempts: 1,
        ..expire_job(T0)
    };
    let audit = NewAuditEvent::new(T0, Actor::system("test"), "job.enqueued");
    let id = store.enqueue_job(job, audit).await.unwrap().job_id();
    store.claim_jobs(claim("crashed", T0)).await.unwrap();

    let later = T0.plus(Duration::from_secs(60));
    assert!(
        store
            .claim_jobs(claim("other", later))
            .await
            .unwrap()
            .is_empty()
    );
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Dead);
    assert_eq!(
        all_events(&*store).await.last().unwrap().action,
        "job.dead_lettered"
    );
}

async fn a_database_from_a_newer_writ_is_refused(db: TestDb) {
    db.tamper(
        "INSERT INTO writ_schema_migrations VALUES (99991231000000, 'from_the_future', 0)",
        "INSERT INTO writ_schema_migrations VALUES (99991231000000, 'from_the_future', 0)",
    )
    .await;
    for mode in [
        writ_store::OpenMode::Migrate,
        writ_store::OpenMode::Existing,
    ] {
        let err = writ_store::open(db.url(), mode)
            .await
            .err()
            .expect("must refuse");
        assert!(
            matches!(
                err,
                StoreError::SchemaTooNew {
                    found: 99991231000000,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade writ"), "{err}");
    }
}

fn sorted(mut catalog: writ_domain::Catalog) -> writ_domain::Catalog {
    catalog.principals.sort_by(|a, b| a.email.cmp(&b.email));
    catalog.systems.sort_by(|a, b| a.name.cmp(&b.name));
    catalog.entitlements.sort_by(|a, b| a.name.cmp(&b.name));
    catalog.sod_rules.sort_by(|a, b| a.name.cmp(&b.name));
    catalog.identities.sort_by(|a, b| a.name.cmp(&b.name));
    catalog
}

async fn display_names_are_read_for_the_ids_asked_only(db: TestDb) {
    let store = db.store();
    let payments = writ_testkit::catalog::payments();
    let created = NewAuditEvent::new(T0, Actor::system("test"), "catalog.applied");
    store
        .apply_catalog(payments.catalog.clone(), vec![created], T0)
        .await
        .unwrap();
    let unknown = writ_domain::PrincipalId::new();
    // More ids than one query takes, so the chunks are exercised too.
    let mut principals = vec![payments.alice, unknown];
    principals.extend((0..1_200).map(|_| writ_domain::PrincipalId::new()));
    let names = store
        .display_names(&principals, &[payments.payments_api], &[payments.writer])
        .await
        .unwrap();
    assert_eq!(names.principals.len(), 1, "only Alice is stored");
    assert_eq!(names.principals[&payments.alice], "Alice Engineer");
    assert_eq!(names.identities[&payments.payments_api], "payments-api");
    assert_eq!(names.entitlements[&payments.writer], "payments-db/writer");

    let none = store.display_names(&[], &[], &[]).await.unwrap();
    assert_eq!(none, writ_store::DisplayNames::default());
}

async fn the_catalog_reads_back_as_written(db: TestDb) {
    let store = db.store();
    let payments = writ_testkit::catalog::payments();
    let created = NewAuditEvent::new(T0, Actor::system("test"), "catalog.applied");
    store
        .apply_catalog(payments.catalog.clone(), vec![created.clone()], T0)
        .await
        .unwrap();
    assert_eq!(
        store.catalog().await.unwrap(),
        sorted(payments.catalog.clone())
    );

    let mut changed = payments.catalog.clone();
    changed.identities[0].purpose = "serves the payments API, v2".into();
    changed.entitlements[0].description = "changed".into();
    store
        .apply_catalog(changed.clone(), vec![created], T0)
        .await
        .unwrap();
    assert_eq!(
        store.catalog().await.unwrap(),
        sorted(changed),
        "upserts update in place"
    );
    assert_eq!(all_events(&*store).await.len(), 2);
}

async fn a_catalog_change_that_breaks_a_reference_writes_nothing(db: TestDb) {
    let store = db.store();
    let mut payments = writ_testkit::catalog::payments().catalog;
    payments.identities[0].owner = writ_domain::PrincipalId::new();
    let event = NewAuditEvent::new(T0, Actor::system("test"), "catalog.applied");
    assert!(
        store
            .apply_catalog(payments, vec![event], T0)
            .await
            .is_err()
    );
    assert!(
        store.catalog().await.unwrap().is_empty(),
        "nothing was written"
    );
    assert!(all_events(&*store).await.is_empty(), "nor audited");
}

async fn applied_payments(store: &dyn Store) -> writ_testkit::catalog::Payments {
    let payments = writ_testkit::catalog::payments();
    let event = NewAuditEvent::new(T0, Actor::system("test"), "catalog.applied");
    store
        .apply_catalog(payments.catalog.clone(), vec![event], T0)
        .await
        .unwrap();
    payments
}

fn submission(
    request: writ_domain::Request,
    event: NewAuditEvent,
    route: Option<writ_store::Route>,
) -> writ_store::Submission {
    writ_store::Submission {
        request,
        decision: decision(),
        event,
        execute: None,
        decided_on: None,
        route,
        review: None,
        notify: Vec::new(),
        ticket: None,
    }
}

fn decision() -> writ_store::RequestDecision {
    writ_store::RequestDecision {
        record: serde_json::json!({ "allowed": true, "reasons": [] }),
        policy_set_hash: "ab".repeat(32),
    }
}

async fn the_submit_context_counts_what_is_in_flight(db: TestDb) {
    use writ_domain::RequestStatus;
    let store = db.store();
    let p = applied_payments(&*store).await;
    let before = store
        .submit_context(p.alice, p.payments_api, Some(p.writer))
        .await
        .unwrap();
    assert_eq!(before.requester.as_ref().map(|r| r.id), Some(p.alice));
    assert_eq!(before.owner.as_ref().map(|o| o.id), Some(p.alice));
    assert_eq!(before.system.as_ref().map(|s| s.id), Some(p.payments_db));
    assert_eq!(before.entitlement.as_ref().map(|e| e.id), Some(p.writer));
    assert!(before.held.is_empty() && before.owner_held.is_empty());
    assert_eq!(before.sod_rules.len(), 1);
    assert!(!before.open_break_glass_review);

    let pending = writ_testkit::catalog::grant_request(
        p.alice,
        p.payments_api,
        p.auditor,
        RequestStatus::PendingApproval,
    );
    let event = NewAuditEvent::new(T0, Actor::principal(p.alice), "request.submitted");
    let stored = store
        .submit_request(submission(pending.clone(), event, None))
        .await
        .unwrap();
    let (read, read_decision) = store.request(stored.id).await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert_eq!(read_decision, decision());

    let rejected = writ_testkit::catalog::grant_request(
        p.alice,
        p.payments_api,
        p.writer,
        RequestStatus::Rejected,
    );
    let event = NewAuditEvent::new(T0, Actor::principal(p.alice), "request.rejected");
    store
        .submit_request(submission(rejected, event, None))
        .await
        .unwrap();

    let after = store
        .submit_context(p.alice, p.payments_api, Some(p.writer))
        .await
        .unwrap();
    assert_eq!(
        after.held,
        [p.auditor],
        "a pending request counts, a rejected one does not"
    );
    assert_eq!(after.owner_held, [p.auditor]);

    let missing = store
        .submit_context(p.alice, writ_domain::IdentityId::new(), None)
        .await
        .unwrap();
    assert!(missing.identity.is_none() && missing.owner.is_none());
}

async fn concurrent_submissions_get_distinct_numbers(db: TestDb) {
    use writ_domain::RequestStatus;
    let store = db.store();
    let p = applied_payments(&*store).await;
    let submitters: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            let request = writ_testkit::catalog::grant_request(
                p.alice,
                p.payments_api,
                p.auditor,
                RequestStatus::PendingApproval,
            );
            tokio::spawn(async move {
                let event = NewAuditEvent::new(T0, Actor::system("test"), "request.submitted");
                store
                    .submit_request(submission(request, event, None))
                    .await
                    .unwrap()
                    .number
                    .get()
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for submitter in submitters {
        numbers.push(submitter.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
    let events = all_events(&*store).await;
    assert!(
        events.iter().any(|e| e.data.contains(r#""number":"REQ-"#)),
        "the audit event names the number"
    );
}
