//! Amounts and dates in the reader's own locale. Amounts go to
//! `Intl.NumberFormat` as decimal strings, which it formats exactly; they
//! never pass through a float.

use std::{cell::RefCell, collections::HashMap};

thread_local! {
    static FORMATS: RefCell<HashMap<String, js_sys::Intl::NumberFormat>> = RefCell::new(HashMap::new());
}

/// `1234.5` in `EUR` as the browser's locale writes it, e.g. `€ 1.234,50`.
/// `value` is exact decimal text, as the worker sends amounts.
pub fn amount(value: &str, currency: &str) -> String {
    if !cfg!(target_arch = "wasm32") {
        return format!("{currency} {value}");
    }
    let text = value.to_owned();
    FORMATS.with(|formats| {
        let mut formats = formats.borrow_mut();
        let format = formats.entry(currency.to_owned()).or_insert_with(|| number_format(currency));
        format
            .format()
            .call1(&wasm_bindgen::JsValue::NULL, &wasm_bindgen::JsValue::from_str(&text))
            .ok()
            .and_then(|formatted| formatted.as_string())
            .unwrap_or(text)
    })
}

/// A plain decimal (quantity, rate) in the browser's locale, all digits kept.
pub fn number(value: &str) -> String {
    amount(value, "")
}

/// Has the browser load its number formatting data now, while the page
/// waits or a transfer runs: the first `Intl.NumberFormat` of a page costs
/// tens of milliseconds, which would otherwise fall in the task that draws
/// the results.
pub fn prepare() {
    number("0");
}

fn number_format(currency: &str) -> js_sys::Intl::NumberFormat {
    let options = js_sys::Object::new();
    let set = |key: &str, value: wasm_bindgen::JsValue| {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value);
    };
    // Intl refuses a malformed currency code; such amounts are shown as numbers.
    if currency.len() == 3 && currency.bytes().all(|byte| byte.is_ascii_uppercase()) {
        set("style", "currency".into());
        set("currency", currency.into());
    } else {
        set("maximumFractionDigits", 20.into());
    }
    // The reader's languages, in their order: the browser's default locale
    // can be the machine's rather than the reader's.
    let languages = web_sys::window().map(|window| window.navigator().languages()).unwrap_or_default();
    js_sys::Intl::NumberFormat::new(&languages, &options)
}

/// The browser's preferred language, e.g. `nl-BE`.
pub fn language() -> String {
    web_sys::window().and_then(|window| window.navigator().language()).unwrap_or_else(|| "en".to_owned())
}

/// A cell of the worker's as text: amounts in `currency`.
pub fn cell(cell: &worker_protocol::Cell, currency: &str) -> String {
    match cell {
        worker_protocol::Cell::Empty => String::new(),
        worker_protocol::Cell::Text(text) => text.clone(),
        worker_protocol::Cell::Number(value) => number(value),
        worker_protocol::Cell::Money(value) => amount(value, currency),
    }
}

/// Whether a decimal the browser wrote (`1.5` formatted in its locale)
/// has a decimal comma, as in Dutch, German or French.
pub fn writes_decimal_comma(one_and_a_half: &str) -> bool {
    one_and_a_half.contains(',')
}

/// Bytes as a person reads them, one decimal (integer arithmetic: float
/// formatting would add its tables to the app).
pub fn bytes(count: u64) -> String {
    let (unit, scale) = match count {
        0..1_000 => return format!("{count} B"),
        1_000..1_000_000 => ("kB", 100),
        _ => ("MB", 100_000),
    };
    let tenths = (count + scale / 2) / scale;
    format!("{}.{} {unit}", tenths / 10, tenths % 10)
}

/// A `performance.mark`, so benchmarks can time the page from outside.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_decimal_comma_is_told_from_the_browsers_own_writing() {
        assert!(super::writes_decimal_comma("1,5"));
        assert!(!super::writes_decimal_comma("1.5"));
    }

    #[test]
    fn byte_counts_read_like_a_person_writes_them() {
        assert_eq!(super::bytes(999), "999 B");
        assert_eq!(super::bytes(467_940), "467.9 kB");
        assert_eq!(super::bytes(21_349_999), "21.3 MB");
        assert_eq!(super::bytes(1_000), "1.0 kB");
    }
}
