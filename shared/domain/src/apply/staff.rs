//! Staff at work: a contact recorded from the dashboard, with what came of it.

use crate::customer::StaffContact;
use crate::event::{ContactChannel, ContactOutcome};

use super::{Change, Transition};

impl Transition<'_> {
    /// The note goes into the history in the system's words; the contact becomes the
    /// customer's latest (today's list reads it) and counts toward an open alert.
    pub(super) fn staff_note(
        &mut self,
        author: &str,
        channel: ContactChannel,
        outcome: Option<ContactOutcome>,
    ) {
        let mut note = format!("contacted by {author} ({})", channel.as_str());
        if let Some(o) = outcome {
            note.push_str(": ");
            note.push_str(o.as_str());
        }
        self.record(Change::Note { note: note.clone() }, &note);
        // a note that arrives late does not replace a later one
        if self.c.last_contact.as_ref().is_none_or(|c| c.at <= self.at) {
            self.c.last_contact = Some(StaffContact {
                at: self.at,
                by: author.to_string(),
                channel,
                outcome,
            });
        }
        self.contacted(author, outcome);
    }
}
