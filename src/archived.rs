//! What the page says about the relay's archive: where an open document
//! came from, and whether the relay kept the one just fetched. Pure, so it
//! is tested natively.

use billing::api::{ArchiveReceipt, ArchivedDocument, Scope};

/// Whether the relay kept the document the page has open.
#[derive(Clone, Debug, PartialEq)]
pub enum Kept {
    /// Opened from the archive, so kept already.
    FromArchive(ArchivedDocument),
    /// Fetched from the vendor as the relay's transfer `request_id`; the
    /// relay has not said yet.
    Checking {
        request_id: u64,
    },
    Archived {
        id: i64,
    },
    NotArchived {
        reason: String,
    },
    /// The relay could not say (another relay served it, or it is down).
    Unknown {
        why: String,
    },
}

impl Kept {
    pub fn from_receipt(receipt: ArchiveReceipt) -> Self {
        match receipt {
            ArchiveReceipt::Archived { id } => Self::Archived { id },
            ArchiveReceipt::NotArchived { reason } => Self::NotArchived { reason },
            ArchiveReceipt::Pending => Self::Unknown { why: "the relay is still writing it".to_owned() },
        }
    }

    /// One sentence for the status line under the transfer.
    pub fn words(&self) -> String {
        match self {
            Self::FromArchive(document) => format!(
                "Opened from the archive, exactly as the vendor sent it: {}. The vendor was not asked.",
                fetched_line(document)
            ),
            Self::Checking { .. } => "Checking that the relay archived it…".to_owned(),
            Self::Archived { id } => format!("Archived exactly as received (archive copy {id})."),
            Self::NotArchived { reason } => format!(
                "Not archived: {reason}. You have the whole document; fetch it again later to archive it."
            ),
            Self::Unknown { why } => format!("Whether the relay archived it is not known: {why}."),
        }
    }

    /// Whether the words are a warning a person should hear at once.
    pub fn is_warning(&self) -> bool {
        matches!(self, Self::NotArchived { .. })
    }
}

/// `fetched 2026-12-03 10:15 UTC by alice@corp.example`.
pub fn fetched_line(document: &ArchivedDocument) -> String {
    let when = billing::api::minute_utc(document.fetched_at);
    match &document.fetched_by {
        Some(account) => format!("fetched {when} by {account}"),
        None => format!("fetched {when}"),
    }
}

/// The window, or the subscription, a document covers.
pub fn scope_words(document: &ArchivedDocument) -> String {
    match document.request.scope() {
        Scope::Window(window) => format!("{} to {}", window.start(), window.end()),
        Scope::Subscription(id) => format!("subscription {id}"),
    }
}

#[cfg(test)]
mod tests {
    use billing::{
        Endpoint, Format,
        api::{DateWindow, DocumentRequest, SubscriptionId},
    };

    use super::*;

    fn document(scope: Scope, by: Option<&str>) -> ArchivedDocument {
        let endpoint = match scope {
            Scope::Window(_) => Endpoint::Invoices,
            Scope::Subscription(_) => Endpoint::SubscriptionDetails,
        };
        ArchivedDocument {
            id: 12,
            request: DocumentRequest::new("p", "v3", endpoint, Format::Xml, scope).unwrap(),
            vendor_status: 200,
            content_type: "application/xml".into(),
            bytes: 10,
            sha256: "a".repeat(64),
            fetched_by: by.map(str::to_owned),
            fetched_at: "2026-12-03T10:15:42Z".parse().unwrap(),
            request_id: 1,
        }
    }

    #[test]
    fn an_archived_document_says_when_and_by_whom_it_was_fetched() {
        let window = DateWindow::new("2026-06-01".parse().unwrap(), "2026-06-30".parse().unwrap()).unwrap();
        let by_alice = document(Scope::Window(window), Some("alice@corp.example"));
        assert_eq!(fetched_line(&by_alice), "fetched 2026-12-03 10:15 UTC by alice@corp.example");
        assert_eq!(scope_words(&by_alice), "2026-06-01 to 2026-06-30");
        let alone = document(Scope::Subscription(SubscriptionId::parse("007").unwrap()), None);
        assert_eq!(fetched_line(&alone), "fetched 2026-12-03 10:15 UTC");
        assert_eq!(scope_words(&alone), "subscription 007");
        assert!(Kept::FromArchive(by_alice).words().contains("The vendor was not asked"));
    }

    #[test]
    fn receipts_become_what_the_page_says() {
        let kept = Kept::from_receipt(ArchiveReceipt::NotArchived { reason: "the disk is full".into() });
        assert!(kept.is_warning());
        assert_eq!(
            kept.words(),
            "Not archived: the disk is full. You have the whole document; fetch it again later to archive it."
        );
        assert_eq!(Kept::from_receipt(ArchiveReceipt::Archived { id: 5 }), Kept::Archived { id: 5 });
        assert!(!Kept::Archived { id: 5 }.is_warning());
    }
}
