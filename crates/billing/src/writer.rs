//! Writing an invoice document piece by piece, so a document of any size is
//! never held whole: the emulator streams its answers through this, and both
//! formats' `write_invoices` are this writer run over a model, so the two
//! cannot drift apart.

use serde::Serialize;

use crate::{
    error::Format,
    model::{Customer, Header, Invoice, InvoiceDocument, Receiver, Sender, Totals},
    xml_out::{close_root_element, element, open_root_element},
};

const XML_ROOT: &str = "InvoiceResponse";

/// Emits the pieces of one document in order: [`start`](Self::start), then
/// for each invoice [`open_invoice`](Self::open_invoice), its customers and
/// [`close_invoice`](Self::close_invoice), then [`finish`](Self::finish).
pub struct InvoiceWriter {
    format: Format,
    invoices: usize,
    customers: usize,
}

impl InvoiceWriter {
    pub fn new(format: Format) -> Self {
        Self { format, invoices: 0, customers: 0 }
    }

    pub fn start(&self) -> String {
        match self.format {
            Format::Xml => open_root_element(XML_ROOT),
            Format::Json => "{\"Invoices\":[".to_owned(),
        }
    }

    /// The invoice's header, sender and receiver; its customers follow.
    pub fn open_invoice(&mut self, header: &Header, sender: &Sender, receiver: &Receiver) -> String {
        let mut out = String::new();
        match self.format {
            Format::Xml => {
                out.push_str("<Invoice>");
                element("Header", header, &mut out);
                element("Sender", sender, &mut out);
                element("Receiver", receiver, &mut out);
            }
            Format::Json => {
                if self.invoices > 0 {
                    out.push(',');
                }
                out.push_str("{\"Header\":");
                push_json(header, &mut out);
                out.push_str(",\"Sender\":");
                push_json(sender, &mut out);
                out.push_str(",\"Receiver\":");
                push_json(receiver, &mut out);
                out.push_str(",\"Customers\":[");
            }
        }
        self.invoices += 1;
        self.customers = 0;
        out
    }

    pub fn customer(&mut self, customer: &Customer) -> String {
        let mut out = String::new();
        match self.format {
            Format::Xml => {
                if self.customers == 0 {
                    out.push_str("<Customers>");
                }
                element("Customer", customer, &mut out);
            }
            Format::Json => {
                if self.customers > 0 {
                    out.push(',');
                }
                push_json(customer, &mut out);
            }
        }
        self.customers += 1;
        out
    }

    pub fn close_invoice(&mut self, totals: &Totals) -> String {
        let mut out = String::new();
        match self.format {
            Format::Xml => {
                out.push_str(if self.customers == 0 { "<Customers />" } else { "</Customers>" });
                element("Totals", totals, &mut out);
                out.push_str("</Invoice>\n");
            }
            Format::Json => {
                out.push_str("],\"Totals\":");
                push_json(totals, &mut out);
                out.push('}');
            }
        }
        out
    }

    pub fn finish(&self) -> String {
        match self.format {
            Format::Xml => close_root_element(XML_ROOT),
            Format::Json => "]}".to_owned(),
        }
    }

    /// One whole invoice, for callers that hold it.
    pub fn invoice(&mut self, invoice: &Invoice) -> String {
        let mut out = self.open_invoice(&invoice.header, &invoice.sender, &invoice.receiver);
        for customer in &invoice.customers {
            out.push_str(&self.customer(customer));
        }
        out.push_str(&self.close_invoice(&invoice.totals));
        out
    }
}

/// A whole document in one format.
pub fn write_document(format: Format, document: &InvoiceDocument) -> Vec<u8> {
    let mut writer = InvoiceWriter::new(format);
    let mut out = writer.start();
    for invoice in &document.invoices {
        out.push_str(&writer.invoice(invoice));
    }
    out.push_str(&writer.finish());
    out.into_bytes()
}

fn push_json(value: &impl Serialize, out: &mut String) {
    out.push_str(&serde_json::to_string(value).expect("the model always serialises"));
}
