//! The reconciler: texts the provider accepted and has not finally reported are polled on the
//! `[texts.polls]` schedule (30 min, backing off to a day) and, after `expire_hours`, recorded
//! expired. A final report found by a poll goes to the events queue exactly as the webhook's
//! would (the same event id, so whichever comes second is a repeat the worker drops); the
//! journey never waits for either. Run on a schedule (`main.rs`: an EventBridge rule).

use chrono::{DateTime, Utc};
use journey::domain::Event;
use journey::domain::text::{TextReport, TextStatus};
use journey::messages::EventMessage;
use journey::ports::{
    Clock, CustomerStore, EventQueue, PendingText, PendingTexts, Redelivery, SendLedger, TextError,
    TextProvider,
};
use serde::Serialize;
use tracing::{info, warn};

use crate::TextSender;

/// Texts polled in one run at most; the rest wait for the next run.
pub const RUN_LIMIT: usize = 500;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reconciled {
    pub polled: usize,
    /// Final reports found and queued.
    pub reported: usize,
    pub expired: usize,
    /// Polls that failed (tried again at the next run).
    pub failed: usize,
}

impl<S, P, Q, R, C> TextSender<S, P, Q, R, C>
where
    S: CustomerStore + SendLedger + PendingTexts,
    P: TextProvider,
    Q: EventQueue,
    R: Redelivery,
    C: Clock,
{
    /// Polls every text due now.
    pub async fn reconcile(&self) -> Result<Reconciled, String> {
        let now = self.clock.now();
        let due = self
            .store
            .due_texts(now, RUN_LIMIT)
            .await
            .map_err(|e| e.to_string())?;
        let mut done = Reconciled::default();
        for text in due {
            done.polled += 1;
            match self.poll_one(&text, now).await {
                Ok(Polled::Reported) => done.reported += 1,
                Ok(Polled::Expired) => done.expired += 1,
                Ok(Polled::Later) => {}
                Err(reason) => {
                    done.failed += 1;
                    warn!(send_id = %text.send_id, %reason, "text poll failed; the next run asks again");
                }
            }
        }
        self.metrics.add("TextsPolled", done.polled as f64);
        self.metrics.add("TextsExpired", done.expired as f64);
        self.metrics.add("TextPollsFailed", done.failed as f64);
        info!(?done, "texts reconciled");
        Ok(done)
    }

    async fn poll_one(&self, text: &PendingText, now: DateTime<Utc>) -> Result<Polled, String> {
        let polls = &self.rules.default_policy().texts.polls;
        let report = match self.provider.poll(&text.send_id, &text.provider_id).await {
            Ok(report) => report.filter(|r| r.status.is_final()),
            Err(TextError::Rejected { code, reason, .. }) => {
                // a lookup refused for good (a bad id): no later poll can do better
                warn!(send_id = %text.send_id, %code, %reason, "text lookup refused");
                None
            }
            Err(e) => return Err(e.to_string()),
        };
        let (report, outcome) = match report {
            Some(report) => (report, Polled::Reported),
            None => match polls.next_poll(text.sent_at, now) {
                Some(next) => {
                    self.store
                        .repoll(text, next)
                        .await
                        .map_err(|e| e.to_string())?;
                    return Ok(Polled::Later);
                }
                None => (expired(text, now), Polled::Expired),
            },
        };
        self.queue_report(text, &report, now).await?;
        self.store
            .end_polls(&text.send_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(outcome)
    }

    async fn queue_report(
        &self,
        text: &PendingText,
        report: &TextReport,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let event = Event::text_report(text.customer_id.clone(), self.provider_name, report)
            .map_err(|e| e.to_string())?;
        self.reports
            .enqueue(&[EventMessage {
                received_at: now,
                event,
            }])
            .await
            .map_err(|e| e.to_string())
    }

    /// After the provider accepted `send_id`: its first poll, should no report come.
    pub(crate) async fn await_report(&self, customer_id: &str, send_id: &str, provider_id: &str) {
        let now = self.clock.now();
        let polls = &self.rules.default_policy().texts.polls;
        let (Ok(customer_id), Some(due_at)) = (
            journey::domain::CustomerId::new(customer_id),
            polls.next_poll(now, now),
        ) else {
            return;
        };
        let pending = PendingText {
            send_id: send_id.to_string(),
            customer_id,
            provider_id: provider_id.to_string(),
            sent_at: now,
            due_at,
        };
        // the webhook still reports it: a text without polls is only unreconciled
        if let Err(e) = self.store.await_report(&pending).await {
            self.metrics.add("TextPollsNotScheduled", 1.0);
            warn!(send_id, error = %e, "text sent, its polls not scheduled");
        }
    }
}

enum Polled {
    Reported,
    Expired,
    Later,
}

/// The reconciler's own final word on a text no report came for.
fn expired(text: &PendingText, now: DateTime<Utc>) -> TextReport {
    TextReport {
        send_id: text.send_id.clone(),
        customer_id: Some(text.customer_id.as_str().to_string()),
        provider_id: text.provider_id.clone(),
        code: "expired".into(),
        status: TextStatus::Expired,
        at: now,
        fallback: false,
    }
}
