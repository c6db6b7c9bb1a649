//! A document the worker has read, as the page keeps it: the request, its
//! size, and the worker's overview. The document itself stays in the
//! worker; its bytes as received are a Blob beside this.

use billing::api::{ArchivedDocument, DocumentRequest};
use worker_protocol::Opened;

use crate::query::month_label;

#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub request: DocumentRequest,
    /// How many bytes came.
    pub raw_size: u64,
    pub opened: Opened,
    /// The background worker's memory with the document read, in bytes.
    pub worker_memory: u64,
    pub origin: Origin,
}

/// Where the page's copy of a document came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// Fetched from the vendor now, as the relay numbered the transfer.
    Vendor { request_id: Option<u64> },
    /// Opened from the relay's archive, without asking the vendor.
    Archive(ArchivedDocument),
}

impl Loaded {
    pub fn raw_file_name(&self) -> String {
        self.request.file_name()
    }

    /// What a screen reader is told once the document has been read.
    pub fn announcement(&self) -> String {
        match &self.opened {
            Opened::Invoices(overview) => overview.announcement.clone(),
            _ => "Loaded the subscription details.".to_owned(),
        }
    }
}

/// What to say when a window holds no invoices.
pub fn empty_window_advice(request: &DocumentRequest) -> String {
    let Some(window) = request.window() else { return String::new() };
    format!(
        "No invoices are dated between {} and {}. Invoices for a month M are dated around the 23rd of month M+1: \
         for the invoices of {}, choose a window that includes the 23rd of the month after.",
        window.start(),
        window.end(),
        month_label(window.start())
    )
}

#[cfg(test)]
mod tests {
    use billing::{Endpoint, Format, Generation, ProfileSummary, Role};
    use chrono::NaiveDate;
    use worker_protocol::DetailsView;

    use super::*;
    use crate::query::Query;

    fn request() -> DocumentRequest {
        let profile = ProfileSummary {
            name: "demo".to_owned(),
            environment: "DEMO".to_owned(),
            generation: Generation::Legacy,
            versions: vec!["v3".to_owned()],
            endpoints: Generation::Legacy.endpoints().to_vec(),
            role: Role::Read,
        };
        let mut query = Query::default_for(&profile, NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
        query.endpoint = Endpoint::CustomerInvoices;
        query.format = Format::Json;
        query.request().unwrap()
    }

    #[test]
    fn the_raw_file_is_named_by_the_query_and_its_format() {
        let loaded = Loaded {
            request: request(),
            raw_size: 3,
            opened: Opened::SubscriptionDetails(DetailsView::default()),
            worker_memory: 0,
            origin: Origin::Vendor { request_id: None },
        };
        assert_eq!(loaded.raw_file_name(), "customerinvoices_v3_2025-12-31_2026-03-31.json");
        assert_eq!(loaded.announcement(), "Loaded the subscription details.");
    }

    #[test]
    fn an_empty_window_reminds_of_the_23rd() {
        let advice = empty_window_advice(&request());
        assert!(advice.contains("around the 23rd of month M+1"), "{advice}");
    }
}
