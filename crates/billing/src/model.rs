//! One model of the vendor's invoice-shaped documents, whatever the endpoint
//! or format they came in. Field names follow the contract; every scalar is
//! optional because the vendor may leave any of them out or empty.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{leaf, scalars::Id, text::Text};

/// A whole answer of `invoices`, `customerinvoices`, `consolidatedinvoices`,
/// or the current API's invoice-shaped endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InvoiceDocument {
    #[serde(rename = "Invoices")]
    pub invoices: Vec<Invoice>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Invoice {
    pub header: Header,
    pub sender: Sender,
    pub receiver: Receiver,
    pub customers: Vec<Customer>,
    pub totals: Totals,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Header {
    #[serde(rename = "InvoiceID", serialize_with = "leaf::id")]
    pub invoice_id: Option<Id>,
    #[serde(serialize_with = "leaf::date")]
    pub date: Option<NaiveDate>,
    #[serde(serialize_with = "leaf::date")]
    pub expiration_date: Option<NaiveDate>,
    #[serde(serialize_with = "leaf::text")]
    pub currency: Option<Text>,
    #[serde(serialize_with = "leaf::amount")]
    pub terms_of_payment_days: Option<Decimal>,
    #[serde(serialize_with = "leaf::text")]
    pub r#type: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub type_identifier: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub description: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub language_code: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub language: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Sender {
    #[serde(rename = "AccountID", serialize_with = "leaf::id")]
    pub account_id: Option<Id>,
    #[serde(serialize_with = "leaf::text")]
    pub company_name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub address: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub postal_code: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub city: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub country_code: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub country: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub telephone: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub fax: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub chamber_of_commerce: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub bank_account: Option<Text>,
    #[serde(rename = "IBAN", serialize_with = "leaf::text")]
    pub iban: Option<Text>,
    #[serde(rename = "BIC", serialize_with = "leaf::text")]
    pub bic: Option<Text>,
    #[serde(rename = "VATNumber", serialize_with = "leaf::text")]
    pub vat_number: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub website: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Receiver {
    #[serde(rename = "AccountID", serialize_with = "leaf::id")]
    pub account_id: Option<Id>,
    #[serde(serialize_with = "leaf::id")]
    pub customer_number: Option<Id>,
    #[serde(serialize_with = "leaf::text")]
    pub company_name: Option<Text>,
    #[serde(rename = "VATNumber", serialize_with = "leaf::text")]
    pub vat_number: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub contact_first_name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub contact_middle_name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub contact_last_name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub address: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub zip: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub city: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub country: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub country_code: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub telephone: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub fax: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub email: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub r#type: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Customer {
    #[serde(rename = "AccountID", serialize_with = "leaf::id")]
    pub account_id: Option<Id>,
    #[serde(serialize_with = "leaf::id")]
    pub customer_number: Option<Id>,
    #[serde(serialize_with = "leaf::text")]
    pub company_name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub cost_center: Option<Text>,
    /// What `consolidatedinvoices` calls the cost centre; written only there.
    #[serde(
        rename = "CustomerCostCenter",
        serialize_with = "leaf::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_cost_center: Option<Text>,
    pub subscriptions: Vec<Subscription>,
}

impl Customer {
    /// The cost centre, whichever of its two names the document used.
    pub fn cost_centre(&self) -> Option<&str> {
        self.cost_center.as_deref().or(self.customer_cost_center.as_deref())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    #[serde(rename = "SubscriptionID", serialize_with = "leaf::id")]
    pub subscription_id: Option<Id>,
    #[serde(serialize_with = "leaf::text")]
    pub subscription_name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub billing_model: Option<Text>,
    #[serde(rename = "PlanID", serialize_with = "leaf::id")]
    pub plan_id: Option<Id>,
    #[serde(serialize_with = "leaf::text")]
    pub plan_name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub plan_category_name: Option<Text>,
    #[serde(serialize_with = "leaf::date")]
    pub start_date: Option<NaiveDate>,
    #[serde(rename = "SubscriptionPONumber", serialize_with = "leaf::text")]
    pub subscription_po_number: Option<Text>,
    pub subscription_details: Vec<SubscriptionDetail>,
    pub price_lines: Vec<PriceLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscriptionDetail {
    #[serde(serialize_with = "leaf::text")]
    pub attribute: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub attribute_value: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub attribute_description: Option<Text>,
    #[serde(rename = "noshow", serialize_with = "leaf::flag")]
    pub no_show: Option<bool>,
}

/// One charge. `consolidatedinvoices` lines carry the purchase and sales
/// price pairs instead of `UnitPrice` and `Discount`; other documents do not
/// write them at all.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PriceLine {
    #[serde(serialize_with = "leaf::id")]
    pub line_id: Option<Id>,
    #[serde(rename = "UID", serialize_with = "leaf::unique_text")]
    pub uid: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub description: Option<Text>,
    #[serde(serialize_with = "leaf::amount")]
    pub quantity: Option<Decimal>,
    #[serde(serialize_with = "leaf::text")]
    pub quantity_type: Option<Text>,
    #[serde(serialize_with = "leaf::amount")]
    pub unit_price: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub discount: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub duration: Option<Decimal>,
    #[serde(serialize_with = "leaf::text")]
    pub duration_type: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub billing_frequency: Option<Text>,
    #[serde(serialize_with = "leaf::amount")]
    pub extended_price: Option<Decimal>,
    #[serde(rename = "VAT", serialize_with = "leaf::amount")]
    pub vat: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub tax_percentage: Option<Decimal>,
    #[serde(rename = "TaxZoneID", serialize_with = "leaf::id")]
    pub tax_zone_id: Option<Id>,
    #[serde(serialize_with = "leaf::date")]
    pub start_date: Option<NaiveDate>,
    #[serde(serialize_with = "leaf::date")]
    pub end_date: Option<NaiveDate>,
    #[serde(rename = "SKU", serialize_with = "leaf::text")]
    pub sku: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub consumer_company_name: Option<Text>,
    #[serde(serialize_with = "leaf::id")]
    pub consumer_company_number: Option<Id>,
    #[serde(rename = "RatePeriodID", serialize_with = "leaf::id")]
    pub rate_period_id: Option<Id>,
    #[serde(rename = "SubPONumber", serialize_with = "leaf::text")]
    pub sub_po_number: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub charge_type: Option<Text>,
    #[serde(serialize_with = "leaf::unique_text")]
    pub invoice_row_hash: Option<Text>,
    #[serde(serialize_with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub purchase_price: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub purchase_discount: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub sales_price: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub sales_discount: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Totals {
    #[serde(rename = "TotalExcludingVAT", serialize_with = "leaf::amount")]
    pub total_excluding_vat: Option<Decimal>,
    #[serde(rename = "TotalVAT", serialize_with = "leaf::amount")]
    pub total_vat: Option<Decimal>,
    #[serde(rename = "TotalIncludingVAT", serialize_with = "leaf::amount")]
    pub total_including_vat: Option<Decimal>,
}

/// The answer of `subscriptiondetails`: one subscription's terms, plan,
/// plan period and resources. Unlike the invoices it is one object, and it
/// writes `SubscriptionId`/`PlanId` where invoices write `…ID`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscriptionDetails {
    pub subscription: SubscriptionTerms,
    pub service_plan: ServicePlan,
    pub service_plan_period: ServicePlanPeriod,
    pub resources: Vec<Resource>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscriptionTerms {
    #[serde(serialize_with = "leaf::id")]
    pub subscription_id: Option<Id>,
    #[serde(serialize_with = "leaf::date")]
    pub start_date: Option<NaiveDate>,
    #[serde(serialize_with = "leaf::date")]
    pub expiration_date: Option<NaiveDate>,
    #[serde(serialize_with = "leaf::amount")]
    pub period: Option<Decimal>,
    #[serde(serialize_with = "leaf::text")]
    pub period_type: Option<Text>,
    #[serde(serialize_with = "leaf::amount")]
    pub billing_period: Option<Decimal>,
    #[serde(serialize_with = "leaf::text")]
    pub billing_period_type: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServicePlan {
    #[serde(serialize_with = "leaf::id")]
    pub plan_id: Option<Id>,
    pub plan_name: Localised,
    #[serde(serialize_with = "leaf::id")]
    pub plan_category_id: Option<Id>,
    pub plan_category_name: Localised,
}

/// The plan's billing period and its fees **(our choice of fields: the
/// contract names the object but not its content)**.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServicePlanPeriod {
    #[serde(serialize_with = "leaf::amount")]
    pub period: Option<Decimal>,
    #[serde(serialize_with = "leaf::text")]
    pub period_type: Option<Text>,
    #[serde(serialize_with = "leaf::flag")]
    pub trial: Option<bool>,
    #[serde(serialize_with = "leaf::amount")]
    pub setup_fee: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub recurring_fee: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub renewal_fee: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(serialize_with = "leaf::id")]
    pub resource_id: Option<Id>,
    pub resource_name: Localised,
    #[serde(serialize_with = "leaf::amount")]
    pub included_value: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub amount: Option<Decimal>,
    #[serde(serialize_with = "leaf::text")]
    pub manufacturer: Option<Text>,
    #[serde(rename = "MPNumber", serialize_with = "leaf::text")]
    pub mp_number: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub measure_unit: Option<Text>,
    pub resource_rate: ResourceRate,
}

/// What one unit of a resource costs **(our choice of fields)**.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRate {
    #[serde(serialize_with = "leaf::amount")]
    pub setup_fee: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub recurring_fee: Option<Decimal>,
    #[serde(serialize_with = "leaf::amount")]
    pub overuse_fee: Option<Decimal>,
}

/// A name in several languages, as `[{"Name": "nl", "Value": "…"}]`. A
/// plain string is read too, as a name in no particular language.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Localised(pub Vec<LocalisedName>);

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LocalisedName {
    /// The language code.
    #[serde(serialize_with = "leaf::text")]
    pub name: Option<Text>,
    #[serde(serialize_with = "leaf::text")]
    pub value: Option<Text>,
}

impl Localised {
    /// The name in `language` (`nl`, or `nl-BE` falling back to `nl`), else
    /// in English, else the first one given.
    pub fn best_for(&self, language: &str) -> Option<&str> {
        let primary = language.split(['-', '_']).next().unwrap_or(language);
        let in_language = |wanted: &str| {
            self.0
                .iter()
                .find(|name| name.name.as_deref().is_some_and(|code| code.eq_ignore_ascii_case(wanted)))
        };
        in_language(language)
            .or_else(|| in_language(primary))
            .or_else(|| in_language("en"))
            .or_else(|| self.0.first())
            .and_then(|name| name.value.as_deref())
    }
}
