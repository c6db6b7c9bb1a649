//! One model of the vendor's invoice-shaped documents, whatever the endpoint
//! or format they came in. Field names follow the contract; every scalar is
//! optional because the vendor may leave any of them out or empty.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{leaf, scalars::Id, text::Text};

/// A whole answer of `invoices`, `customerinvoices`, `consolidatedinvoices`,
/// or the current API's invoice-shaped endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InvoiceDocument {
    #[serde(rename = "Invoices", default)]
    pub invoices: Vec<Invoice>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Invoice {
    pub header: Header,
    pub sender: Sender,
    pub receiver: Receiver,
    #[serde(deserialize_with = "leaf::list")]
    pub customers: Vec<Customer>,
    pub totals: Totals,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Header {
    #[serde(rename = "InvoiceID", with = "leaf::id")]
    pub invoice_id: Option<Id>,
    #[serde(with = "leaf::date")]
    pub date: Option<NaiveDate>,
    #[serde(with = "leaf::date")]
    pub expiration_date: Option<NaiveDate>,
    #[serde(with = "leaf::text")]
    pub currency: Option<Text>,
    #[serde(with = "leaf::amount")]
    pub terms_of_payment_days: Option<Decimal>,
    #[serde(with = "leaf::text")]
    pub r#type: Option<Text>,
    #[serde(with = "leaf::text")]
    pub type_identifier: Option<Text>,
    #[serde(with = "leaf::text")]
    pub description: Option<Text>,
    #[serde(with = "leaf::text")]
    pub language_code: Option<Text>,
    #[serde(with = "leaf::text")]
    pub language: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Sender {
    #[serde(rename = "AccountID", with = "leaf::id")]
    pub account_id: Option<Id>,
    #[serde(with = "leaf::text")]
    pub company_name: Option<Text>,
    #[serde(with = "leaf::text")]
    pub address: Option<Text>,
    #[serde(with = "leaf::text")]
    pub postal_code: Option<Text>,
    #[serde(with = "leaf::text")]
    pub city: Option<Text>,
    #[serde(with = "leaf::text")]
    pub country_code: Option<Text>,
    #[serde(with = "leaf::text")]
    pub country: Option<Text>,
    #[serde(with = "leaf::text")]
    pub telephone: Option<Text>,
    #[serde(with = "leaf::text")]
    pub fax: Option<Text>,
    #[serde(with = "leaf::text")]
    pub chamber_of_commerce: Option<Text>,
    #[serde(with = "leaf::text")]
    pub bank_account: Option<Text>,
    #[serde(rename = "IBAN", with = "leaf::text")]
    pub iban: Option<Text>,
    #[serde(rename = "BIC", with = "leaf::text")]
    pub bic: Option<Text>,
    #[serde(rename = "VATNumber", with = "leaf::text")]
    pub vat_number: Option<Text>,
    #[serde(with = "leaf::text")]
    pub website: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Receiver {
    #[serde(rename = "AccountID", with = "leaf::id")]
    pub account_id: Option<Id>,
    #[serde(with = "leaf::id")]
    pub customer_number: Option<Id>,
    #[serde(with = "leaf::text")]
    pub company_name: Option<Text>,
    #[serde(rename = "VATNumber", with = "leaf::text")]
    pub vat_number: Option<Text>,
    #[serde(with = "leaf::text")]
    pub contact_first_name: Option<Text>,
    #[serde(with = "leaf::text")]
    pub contact_middle_name: Option<Text>,
    #[serde(with = "leaf::text")]
    pub contact_last_name: Option<Text>,
    #[serde(with = "leaf::text")]
    pub address: Option<Text>,
    #[serde(with = "leaf::text")]
    pub zip: Option<Text>,
    #[serde(with = "leaf::text")]
    pub city: Option<Text>,
    #[serde(with = "leaf::text")]
    pub country: Option<Text>,
    #[serde(with = "leaf::text")]
    pub country_code: Option<Text>,
    #[serde(with = "leaf::text")]
    pub telephone: Option<Text>,
    #[serde(with = "leaf::text")]
    pub fax: Option<Text>,
    #[serde(with = "leaf::text")]
    pub email: Option<Text>,
    #[serde(with = "leaf::text")]
    pub r#type: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Customer {
    #[serde(rename = "AccountID", with = "leaf::id")]
    pub account_id: Option<Id>,
    #[serde(with = "leaf::id")]
    pub customer_number: Option<Id>,
    #[serde(with = "leaf::text")]
    pub company_name: Option<Text>,
    #[serde(with = "leaf::text")]
    pub cost_center: Option<Text>,
    /// What `consolidatedinvoices` calls the cost centre; written only there.
    #[serde(rename = "CustomerCostCenter", with = "leaf::text", skip_serializing_if = "Option::is_none")]
    pub customer_cost_center: Option<Text>,
    #[serde(deserialize_with = "leaf::list")]
    pub subscriptions: Vec<Subscription>,
}

impl Customer {
    /// The cost centre, whichever of its two names the document used.
    pub fn cost_centre(&self) -> Option<&str> {
        self.cost_center.as_deref().or(self.customer_cost_center.as_deref())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subscription {
    #[serde(rename = "SubscriptionID", with = "leaf::id")]
    pub subscription_id: Option<Id>,
    #[serde(with = "leaf::text")]
    pub subscription_name: Option<Text>,
    #[serde(with = "leaf::text")]
    pub billing_model: Option<Text>,
    #[serde(rename = "PlanID", with = "leaf::id")]
    pub plan_id: Option<Id>,
    #[serde(with = "leaf::text")]
    pub plan_name: Option<Text>,
    #[serde(with = "leaf::text")]
    pub plan_category_name: Option<Text>,
    #[serde(with = "leaf::date")]
    pub start_date: Option<NaiveDate>,
    #[serde(rename = "SubscriptionPONumber", with = "leaf::text")]
    pub subscription_po_number: Option<Text>,
    #[serde(deserialize_with = "leaf::list")]
    pub subscription_details: Vec<SubscriptionDetail>,
    #[serde(deserialize_with = "leaf::list")]
    pub price_lines: Vec<PriceLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SubscriptionDetail {
    #[serde(with = "leaf::text")]
    pub attribute: Option<Text>,
    #[serde(with = "leaf::text")]
    pub attribute_value: Option<Text>,
    #[serde(with = "leaf::text")]
    pub attribute_description: Option<Text>,
    #[serde(rename = "noshow", with = "leaf::flag")]
    pub no_show: Option<bool>,
}

/// One charge. `consolidatedinvoices` lines carry the purchase and sales
/// price pairs instead of `UnitPrice` and `Discount`; other documents do not
/// write them at all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PriceLine {
    #[serde(with = "leaf::id")]
    pub line_id: Option<Id>,
    #[serde(rename = "UID", with = "leaf::unique_text")]
    pub uid: Option<Text>,
    #[serde(with = "leaf::text")]
    pub description: Option<Text>,
    #[serde(with = "leaf::amount")]
    pub quantity: Option<Decimal>,
    #[serde(with = "leaf::text")]
    pub quantity_type: Option<Text>,
    #[serde(with = "leaf::amount")]
    pub unit_price: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub discount: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub duration: Option<Decimal>,
    #[serde(with = "leaf::text")]
    pub duration_type: Option<Text>,
    #[serde(with = "leaf::text")]
    pub billing_frequency: Option<Text>,
    #[serde(with = "leaf::amount")]
    pub extended_price: Option<Decimal>,
    #[serde(rename = "VAT", with = "leaf::amount")]
    pub vat: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub tax_percentage: Option<Decimal>,
    #[serde(rename = "TaxZoneID", with = "leaf::id")]
    pub tax_zone_id: Option<Id>,
    #[serde(with = "leaf::date")]
    pub start_date: Option<NaiveDate>,
    #[serde(with = "leaf::date")]
    pub end_date: Option<NaiveDate>,
    #[serde(rename = "SKU", with = "leaf::text")]
    pub sku: Option<Text>,
    #[serde(with = "leaf::text")]
    pub consumer_company_name: Option<Text>,
    #[serde(with = "leaf::id")]
    pub consumer_company_number: Option<Id>,
    #[serde(rename = "RatePeriodID", with = "leaf::id")]
    pub rate_period_id: Option<Id>,
    #[serde(rename = "SubPONumber", with = "leaf::text")]
    pub sub_po_number: Option<Text>,
    #[serde(with = "leaf::text")]
    pub charge_type: Option<Text>,
    #[serde(with = "leaf::unique_text")]
    pub invoice_row_hash: Option<Text>,
    #[serde(with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub purchase_price: Option<Decimal>,
    #[serde(with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub purchase_discount: Option<Decimal>,
    #[serde(with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub sales_price: Option<Decimal>,
    #[serde(with = "leaf::amount", skip_serializing_if = "Option::is_none")]
    pub sales_discount: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Totals {
    #[serde(rename = "TotalExcludingVAT", with = "leaf::amount")]
    pub total_excluding_vat: Option<Decimal>,
    #[serde(rename = "TotalVAT", with = "leaf::amount")]
    pub total_vat: Option<Decimal>,
    #[serde(rename = "TotalIncludingVAT", with = "leaf::amount")]
    pub total_including_vat: Option<Decimal>,
}

/// The answer of `subscriptiondetails`: one subscription's terms, plan,
/// plan period and resources. Unlike the invoices it is one object, and it
/// writes `SubscriptionId`/`PlanId` where invoices write `…ID`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SubscriptionDetails {
    pub subscription: SubscriptionTerms,
    pub service_plan: ServicePlan,
    pub service_plan_period: ServicePlanPeriod,
    pub resources: Vec<Resource>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SubscriptionTerms {
    #[serde(with = "leaf::id")]
    pub subscription_id: Option<Id>,
    #[serde(with = "leaf::date")]
    pub start_date: Option<NaiveDate>,
    #[serde(with = "leaf::date")]
    pub expiration_date: Option<NaiveDate>,
    #[serde(with = "leaf::amount")]
    pub period: Option<Decimal>,
    #[serde(with = "leaf::text")]
    pub period_type: Option<Text>,
    #[serde(with = "leaf::amount")]
    pub billing_period: Option<Decimal>,
    #[serde(with = "leaf::text")]
    pub billing_period_type: Option<Text>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServicePlan {
    #[serde(with = "leaf::id")]
    pub plan_id: Option<Id>,
    pub plan_name: Localised,
    #[serde(with = "leaf::id")]
    pub plan_category_id: Option<Id>,
    pub plan_category_name: Localised,
}

/// The plan's billing period and its fees **(our choice of fields: the
/// contract names the object but not its content)**.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServicePlanPeriod {
    #[serde(with = "leaf::amount")]
    pub period: Option<Decimal>,
    #[serde(with = "leaf::text")]
    pub period_type: Option<Text>,
    #[serde(with = "leaf::flag")]
    pub trial: Option<bool>,
    #[serde(with = "leaf::amount")]
    pub setup_fee: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub recurring_fee: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub renewal_fee: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Resource {
    #[serde(with = "leaf::id")]
    pub resource_id: Option<Id>,
    pub resource_name: Localised,
    #[serde(with = "leaf::amount")]
    pub included_value: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub amount: Option<Decimal>,
    #[serde(with = "leaf::text")]
    pub manufacturer: Option<Text>,
    #[serde(rename = "MPNumber", with = "leaf::text")]
    pub mp_number: Option<Text>,
    #[serde(with = "leaf::text")]
    pub measure_unit: Option<Text>,
    pub resource_rate: ResourceRate,
}

/// What one unit of a resource costs **(our choice of fields)**.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ResourceRate {
    #[serde(with = "leaf::amount")]
    pub setup_fee: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub recurring_fee: Option<Decimal>,
    #[serde(with = "leaf::amount")]
    pub overuse_fee: Option<Decimal>,
}

/// A name in several languages, as `[{"Name": "nl", "Value": "…"}]`. A
/// plain string is read too, as a name in no particular language.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Localised(pub Vec<LocalisedName>);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LocalisedName {
    /// The language code.
    #[serde(with = "leaf::text")]
    pub name: Option<Text>,
    #[serde(with = "leaf::text")]
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

impl<'de> Deserialize<'de> for Localised {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LocalisedVisitor)
    }
}

struct LocalisedVisitor;

impl<'de> serde::de::Visitor<'de> for LocalisedVisitor {
    type Value = Localised;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a list of {Name, Value} or a plain name")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, list: A) -> Result<Localised, A::Error> {
        Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(list)).map(Localised)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Localised, E> {
        let value = (!value.trim().is_empty()).then(|| Text::interned(value));
        Ok(Localised(
            value.map(|value| LocalisedName { name: None, value: Some(value) }).into_iter().collect(),
        ))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Localised, E> {
        Ok(Localised::default())
    }
}
