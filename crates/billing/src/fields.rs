//! The model as the readers fill it: each record names its fields, and says
//! of each whether it is a value, a record, a list of records or a
//! localised name. The JSON reader (from its tokens) and the XML reader
//! (from quick-xml's events) both walk a document through this, so a field
//! means the same whichever format it came in.

use std::{any::TypeId, cell::RefCell};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::{
    model::{
        Customer, Header, Invoice, InvoiceDocument, Localised, LocalisedName, PriceLine, Receiver, Resource,
        ResourceRate, Sender, ServicePlan, ServicePlanPeriod, Subscription, SubscriptionDetail,
        SubscriptionDetails, SubscriptionTerms, Totals,
    },
    scalars::{Id, parse_amount, parse_date},
    text::{FieldKey, Text, same},
};

/// The vendor's documents nest about eight levels deep; far deeper is an
/// attack or a broken writer, refused before it can exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// Why a field is refused when the document gives it twice: which one
/// would be meant?
pub(crate) const GIVEN_TWICE: &str = "the field is given twice";

/// What a field of a record holds.
pub(crate) enum Slot<'m> {
    Value(Value<'m>),
    Record(&'m mut dyn Record),
    List(&'m mut dyn List),
    Localised(&'m mut Localised),
}

/// A value field, set from its text.
pub(crate) enum Value<'m> {
    /// Text that repeats from line to line: shared with its equals, and
    /// first compared with the field's value on the line before.
    Text(&'m mut Option<Text>, FieldKey),
    /// Text that differs on every line (row ids and hashes): looking each
    /// up among the others would only cost time and room.
    UniqueText(&'m mut Option<Text>),
    Amount(&'m mut Option<Decimal>),
    Date(&'m mut Option<NaiveDate>),
    Id(&'m mut Option<Id>),
    Flag(&'m mut Option<bool>),
}

impl Value<'_> {
    /// Sets the field from its text as written, strings unescaped and
    /// numbers as they stand; `None` (JSON's `null`) and blank text leave
    /// it absent. A field given twice is refused: which one would be meant?
    pub(crate) fn set(self, text: Option<&str>) -> Result<(), String> {
        let text = text.filter(|text| !is_blank(text));
        match self {
            Self::Text(field, key) => fill(field, text.map(|text| Text::interned_for(key, text))),
            Self::UniqueText(field) => fill(field, text.map(Text::from)),
            // Set in place from the parse: moved through `fill`, the amount
            // went through the stack in pieces of other widths than it was
            // read back in, each time a stall.
            Self::Amount(field) => match text {
                None => Ok(()),
                Some(_) if field.is_some() => Err(GIVEN_TWICE.to_owned()),
                Some(text) => {
                    *field = Some(parse_amount(text).map_err(|error| error.to_string())?);
                    Ok(())
                }
            },
            Self::Date(field) => {
                let date = text.map(parse_date).transpose().map_err(|error| error.to_string())?;
                fill(field, date)
            }
            Self::Id(field) => fill(field, text.map(id)),
            Self::Flag(field) => fill(field, text.map(flag).transpose()?),
        }
    }
}

/// Whether `text` is empty or only whitespace. Decided byte by byte while
/// it is ASCII: most values begin with a letter or digit, and most of an
/// XML document's blank text is a line break and its indentation.
pub(crate) fn is_blank(text: &str) -> bool {
    for byte in text.bytes() {
        if !byte.is_ascii() {
            return text.trim().is_empty();
        }
        // `char::is_whitespace`'s ASCII: `\t` to `\r` (with the vertical tab) and the space.
        if !matches!(byte, b'\t'..=b'\r' | b' ') {
            return false;
        }
    }
    true
}

fn fill<T>(field: &mut Option<T>, value: Option<T>) -> Result<(), String> {
    if field.is_some() && value.is_some() {
        return Err(GIVEN_TWICE.to_owned());
    }
    if value.is_some() {
        *field = value;
    }
    Ok(())
}

/// Canonical whatever the quoting: `12345` and `"12345"` are the same
/// number, while `"012345"` keeps its leading zero as text.
fn id(text: &str) -> Id {
    let canonical = !text.starts_with('0') || text.len() == 1;
    match text.parse::<u64>() {
        Ok(number) if canonical && text.bytes().all(|byte| byte.is_ascii_digit()) => Id::Number(number),
        _ => Id::Text(text.to_owned()),
    }
}

fn flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("`{text}` is not true or false")),
    }
}

/// A record of the model: its fields by the names the contract gives them.
pub(crate) trait Record {
    /// Every field's name, in the order the vendor writes them.
    fn names(&self) -> &'static [&'static str];
    /// The field called `names()[index]`.
    fn slot(&mut self, index: usize) -> Slot<'_>;
}

/// Finds fields by name, trying first the one after the last found: the
/// vendor writes them in one order, so most names match at the first try.
#[derive(Default)]
pub(crate) struct FieldFinder {
    next: usize,
}

impl FieldFinder {
    /// The name of the field most likely next, with its index: a reader
    /// that finds exactly this name where the next name begins may take it
    /// (and say so by [`Self::found`]) without reading the name as a string.
    pub(crate) fn likely(&self, record: &dyn Record) -> Option<(usize, &'static str)> {
        record.names().get(self.next).map(|name| (self.next, *name))
    }

    pub(crate) fn found(&mut self, index: usize) {
        self.next = index + 1;
    }

    /// The index of the field `name` of `record`, if it has one.
    pub(crate) fn find(&mut self, record: &dyn Record, name: &str) -> Option<usize> {
        let names = record.names();
        let found = match names.get(self.next) {
            Some(expected) if same(expected.as_bytes(), name.as_bytes()) => self.next,
            _ => names.iter().position(|known| same(known.as_bytes(), name.as_bytes()))?,
        };
        self.next = found + 1;
        Some(found)
    }
}

/// The room a list has once its first item is read, before any list of its
/// kind has been read on this thread.
const ROOM_AT_FIRST: usize = 16;

thread_local! {
    /// How many items the last list of each kind held, by its items' type.
    static LAST_LENGTHS: RefCell<Vec<(TypeId, usize)>> = const { RefCell::new(Vec::new()) };
}

/// A list of records, filled one item at a time.
pub(crate) trait List {
    /// A new item at the end, to be filled.
    fn push_item(&mut self) -> &mut dyn Record;
    fn is_empty(&self) -> bool;
    /// Called when the list is read whole.
    fn finish(&mut self);
}

impl<T: Record + Default + 'static> List for Vec<T> {
    /// A list's first item makes room for as many as the last list of its
    /// kind held: a document's lists of one kind are mostly alike, and
    /// room made once for all of them spares both the moves of growing
    /// and the memory a list would keep beyond its items.
    fn push_item(&mut self) -> &mut dyn Record {
        if self.capacity() == 0 {
            let last = LAST_LENGTHS.with_borrow(|lengths| {
                lengths.iter().find(|(kind, _)| *kind == TypeId::of::<T>()).map(|(_, length)| *length)
            });
            self.reserve_exact(last.unwrap_or(ROOM_AT_FIRST));
        }
        self.push(T::default());
        self.last_mut().expect("an item was just pushed")
    }

    fn is_empty(&self) -> bool {
        <[T]>::is_empty(self)
    }

    /// Kept as read, a list that came out shorter than its room would
    /// hold the rest for good.
    fn finish(&mut self) {
        if !self.is_empty() {
            LAST_LENGTHS.with_borrow_mut(|lengths| {
                match lengths.iter_mut().find(|(kind, _)| *kind == TypeId::of::<T>()) {
                    Some((_, length)) => *length = self.len(),
                    None => lengths.push((TypeId::of::<T>(), self.len())),
                }
            });
        }
        self.shrink_to_fit();
    }
}

impl Localised {
    /// A plain string given where a localised name belongs: a name in no
    /// particular language.
    pub(crate) fn set_plain(&mut self, text: &str) -> Result<(), String> {
        if !self.0.is_empty() {
            return Err(GIVEN_TWICE.to_owned());
        }
        if !text.trim().is_empty() {
            self.0.push(LocalisedName { name: None, value: Some(Text::interned(text)) });
        }
        Ok(())
    }
}

/// Implements [`Record`] from one line per field: the contract's name, the
/// model's field, and what it holds.
macro_rules! record {
    ($type:ty { $($name:literal => $field:ident: $kind:ident),* $(,)? }) => {
        impl Record for $type {
            fn names(&self) -> &'static [&'static str] {
                &[$($name),*]
            }

            fn slot(&mut self, index: usize) -> Slot<'_> {
                #[allow(non_camel_case_types, clippy::enum_variant_names)]
                enum Field { $($field),* }
                $(if index == Field::$field as usize {
                    return record!(@make $kind, self.$field, FieldKey::of(&self.names()[index]));
                })*
                unreachable!("a field index is one of names()'s")
            }
        }
    };
    (@make record, $place:expr, $key:expr) => { Slot::Record(&mut $place) };
    (@make list, $place:expr, $key:expr) => { Slot::List(&mut $place) };
    (@make localised, $place:expr, $key:expr) => { Slot::Localised(&mut $place) };
    (@make text, $place:expr, $key:expr) => {{
        let key = $key;
        Slot::Value(Value::Text(&mut $place, key))
    }};
    (@make unique_text, $place:expr, $key:expr) => { Slot::Value(Value::UniqueText(&mut $place)) };
    (@make amount, $place:expr, $key:expr) => { Slot::Value(Value::Amount(&mut $place)) };
    (@make date, $place:expr, $key:expr) => { Slot::Value(Value::Date(&mut $place)) };
    (@make id, $place:expr, $key:expr) => { Slot::Value(Value::Id(&mut $place)) };
    (@make flag, $place:expr, $key:expr) => { Slot::Value(Value::Flag(&mut $place)) };
}

record!(InvoiceDocument { "Invoices" => invoices: list });

record!(Invoice {
    "Header" => header: record,
    "Sender" => sender: record,
    "Receiver" => receiver: record,
    "Customers" => customers: list,
    "Totals" => totals: record,
});

record!(Header {
    "InvoiceID" => invoice_id: id,
    "Date" => date: date,
    "ExpirationDate" => expiration_date: date,
    "Currency" => currency: text,
    "TermsOfPaymentDays" => terms_of_payment_days: amount,
    "Type" => r#type: text,
    "TypeIdentifier" => type_identifier: text,
    "Description" => description: text,
    "LanguageCode" => language_code: text,
    "Language" => language: text,
});

record!(Sender {
    "AccountID" => account_id: id,
    "CompanyName" => company_name: text,
    "Address" => address: text,
    "PostalCode" => postal_code: text,
    "City" => city: text,
    "CountryCode" => country_code: text,
    "Country" => country: text,
    "Telephone" => telephone: text,
    "Fax" => fax: text,
    "ChamberOfCommerce" => chamber_of_commerce: text,
    "BankAccount" => bank_account: text,
    "IBAN" => iban: text,
    "BIC" => bic: text,
    "VATNumber" => vat_number: text,
    "Website" => website: text,
});

record!(Receiver {
    "AccountID" => account_id: id,
    "CustomerNumber" => customer_number: id,
    "CompanyName" => company_name: text,
    "VATNumber" => vat_number: text,
    "ContactFirstName" => contact_first_name: text,
    "ContactMiddleName" => contact_middle_name: text,
    "ContactLastName" => contact_last_name: text,
    "Address" => address: text,
    "Zip" => zip: text,
    "City" => city: text,
    "Country" => country: text,
    "CountryCode" => country_code: text,
    "Telephone" => telephone: text,
    "Fax" => fax: text,
    "Email" => email: text,
    "Type" => r#type: text,
});

record!(Customer {
    "AccountID" => account_id: id,
    "CustomerNumber" => customer_number: id,
    "CompanyName" => company_name: text,
    "CostCenter" => cost_center: text,
    "CustomerCostCenter" => customer_cost_center: text,
    "Subscriptions" => subscriptions: list,
});

record!(Subscription {
    "SubscriptionID" => subscription_id: id,
    "SubscriptionName" => subscription_name: text,
    "BillingModel" => billing_model: text,
    "PlanID" => plan_id: id,
    "PlanName" => plan_name: text,
    "PlanCategoryName" => plan_category_name: text,
    "StartDate" => start_date: date,
    "SubscriptionPONumber" => subscription_po_number: text,
    "SubscriptionDetails" => subscription_details: list,
    "PriceLines" => price_lines: list,
});

record!(SubscriptionDetail {
    "Attribute" => attribute: text,
    "AttributeValue" => attribute_value: text,
    "AttributeDescription" => attribute_description: text,
    "noshow" => no_show: flag,
});

record!(PriceLine {
    "LineId" => line_id: id,
    "UID" => uid: unique_text,
    "Description" => description: text,
    "Quantity" => quantity: amount,
    "QuantityType" => quantity_type: text,
    "UnitPrice" => unit_price: amount,
    "Discount" => discount: amount,
    "Duration" => duration: amount,
    "DurationType" => duration_type: text,
    "BillingFrequency" => billing_frequency: text,
    "ExtendedPrice" => extended_price: amount,
    "VAT" => vat: amount,
    "TaxPercentage" => tax_percentage: amount,
    "TaxZoneID" => tax_zone_id: id,
    "StartDate" => start_date: date,
    "EndDate" => end_date: date,
    "SKU" => sku: text,
    "ConsumerCompanyName" => consumer_company_name: text,
    "ConsumerCompanyNumber" => consumer_company_number: id,
    "RatePeriodID" => rate_period_id: id,
    "SubPONumber" => sub_po_number: text,
    "ChargeType" => charge_type: text,
    "InvoiceRowHash" => invoice_row_hash: unique_text,
    "PurchasePrice" => purchase_price: amount,
    "PurchaseDiscount" => purchase_discount: amount,
    "SalesPrice" => sales_price: amount,
    "SalesDiscount" => sales_discount: amount,
});

record!(Totals {
    "TotalExcludingVAT" => total_excluding_vat: amount,
    "TotalVAT" => total_vat: amount,
    "TotalIncludingVAT" => total_including_vat: amount,
});

record!(SubscriptionDetails {
    "Subscription" => subscription: record,
    "ServicePlan" => service_plan: record,
    "ServicePlanPeriod" => service_plan_period: record,
    "Resources" => resources: list,
});

record!(SubscriptionTerms {
    "SubscriptionId" => subscription_id: id,
    "StartDate" => start_date: date,
    "ExpirationDate" => expiration_date: date,
    "Period" => period: amount,
    "PeriodType" => period_type: text,
    "BillingPeriod" => billing_period: amount,
    "BillingPeriodType" => billing_period_type: text,
});

record!(ServicePlan {
    "PlanId" => plan_id: id,
    "PlanName" => plan_name: localised,
    "PlanCategoryId" => plan_category_id: id,
    "PlanCategoryName" => plan_category_name: localised,
});

record!(ServicePlanPeriod {
    "Period" => period: amount,
    "PeriodType" => period_type: text,
    "Trial" => trial: flag,
    "SetupFee" => setup_fee: amount,
    "RecurringFee" => recurring_fee: amount,
    "RenewalFee" => renewal_fee: amount,
});

record!(Resource {
    "ResourceId" => resource_id: id,
    "ResourceName" => resource_name: localised,
    "IncludedValue" => included_value: amount,
    "Amount" => amount: amount,
    "Manufacturer" => manufacturer: text,
    "MPNumber" => mp_number: text,
    "MeasureUnit" => measure_unit: text,
    "ResourceRate" => resource_rate: record,
});

record!(ResourceRate {
    "SetupFee" => setup_fee: amount,
    "RecurringFee" => recurring_fee: amount,
    "OveruseFee" => overuse_fee: amount,
});

record!(LocalisedName {
    "Name" => name: text,
    "Value" => value: text,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_what_trimming_leaves_empty() {
        let mut texts: Vec<String> = (0..=0x7f_u8).map(|byte| char::from(byte).to_string()).collect();
        texts.extend(
            ["", " \r\n\t", "\u{a0}", " \u{2003} ", " a ", "\u{b}\u{c}", "é", " \u{85}x"].map(str::to_owned),
        );
        for text in texts {
            assert_eq!(is_blank(&text), text.trim().is_empty(), "{text:?}");
        }
    }
}
