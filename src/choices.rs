//! Narrowing a long list of filter values (thousands of customers or
//! invoices) to the few that match what is typed, so the page never draws
//! them all.

/// How many matching values are offered at once.
pub const OFFERED: usize = 50;

/// The first [`OFFERED`] of `values` that contain `typed`, ignoring case,
/// in their order; those that start with it come first.
pub fn offered<'a>(values: &'a [String], typed: &str) -> Vec<&'a str> {
    let typed = typed.trim().to_lowercase();
    let folded = |value: &str| value.to_lowercase();
    let starting = values.iter().filter(|value| folded(value).starts_with(&typed));
    let containing =
        values.iter().filter(|value| !folded(value).starts_with(&typed) && folded(value).contains(&typed));
    starting.chain(containing).take(OFFERED).map(String::as_str).collect()
}

/// The value `typed` names exactly, if any: only a whole value filters.
pub fn picked<'a>(values: &'a [String], typed: &str) -> Option<&'a str> {
    values.iter().map(String::as_str).find(|value| *value == typed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_starting_with_the_text_come_first_and_at_most_fifty() {
        let values: Vec<String> =
            ["Bakkerij de Vries", "Telecom Ltd", "De Bakker B.V.", "bakfiets"].map(str::to_owned).to_vec();
        assert_eq!(offered(&values, "bak"), ["Bakkerij de Vries", "bakfiets", "De Bakker B.V."]);
        assert_eq!(offered(&values, " TEL "), ["Telecom Ltd"]);
        assert_eq!(offered(&values, "").len(), 4);
        let many: Vec<String> = (0..1_000).map(|number| format!("Klant {number}")).collect();
        assert_eq!(offered(&many, "klant").len(), OFFERED);
        assert_eq!(picked(&values, "Telecom Ltd"), Some("Telecom Ltd"));
        assert_eq!(picked(&values, "Telecom"), None, "a part of a name does not filter");
    }
}
