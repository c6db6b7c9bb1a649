//! The vendor's XML shape, shared by the reader and the writers: which
//! elements are lists and records and what their items are called, and
//! how a model value is written as elements.

/// Elements whose children form a list, each child named as the list
/// without its final `s`.
pub(crate) const LISTS: [&str; 5] =
    ["Customers", "Subscriptions", "SubscriptionDetails", "PriceLines", "Resources"];
/// The item of any other list: a localised name **(our choice of element
/// name; the contract gives only the JSON shape)**.
pub(crate) const LOCALISED_ITEM: &str = "LocalizedName";
/// The element name of one item of the list `list`.
pub(crate) fn item_name(list: &str) -> &str {
    if LISTS.contains(&list) { list.strip_suffix('s').unwrap_or(list) } else { LOCALISED_ITEM }
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
const NAMESPACES: &str = "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
                          xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

pub(crate) fn open_root_element(name: &str) -> String {
    format!("{XML_DECLARATION}<{name} {NAMESPACES}>\n")
}

pub(crate) fn close_root_element(name: &str) -> String {
    format!("</{name}>\n")
}

/// `value` as the element `name`, written after `out`. The JSON form
/// carries amounts exactly; it is walked, never re-parsed into floats.
pub(crate) fn element(name: &str, value: &impl serde::Serialize, out: &mut String) {
    let json = serde_json::to_string(value).expect("the model always serialises");
    JsonWalker { json: json.as_bytes(), position: 0 }.element(name, out);
}

/// The fields of `value` as XML elements, without an element around them.
pub(crate) fn members(value: &impl serde::Serialize) -> String {
    let json = serde_json::to_string(value).expect("the model always serialises");
    JsonWalker { json: json.as_bytes(), position: 0 }.members()
}

/// Walks the compact JSON that serde_json wrote for the model and emits the
/// same tree as XML.
struct JsonWalker<'a> {
    json: &'a [u8],
    position: usize,
}

impl JsonWalker<'_> {
    fn element(&mut self, name: &str, xml: &mut String) {
        match self.json[self.position] {
            b'{' => {
                let children = self.members();
                wrap(name, &children, xml);
            }
            b'[' => {
                self.position += 1;
                let item = item_name(name);
                let mut children = String::new();
                while self.json[self.position] != b']' {
                    self.element(item, &mut children);
                    if self.json[self.position] == b',' {
                        self.position += 1;
                    }
                }
                self.position += 1;
                wrap(name, &children, xml);
            }
            b'"' => {
                let text = self.string();
                wrap(name, &quick_xml::escape::escape(text.as_str()), xml);
            }
            b'n' => {
                self.position += "null".len();
                wrap(name, "", xml);
            }
            _ => {
                let start = self.position;
                while !matches!(self.json[self.position], b',' | b'}' | b']') {
                    self.position += 1;
                }
                let literal = std::str::from_utf8(&self.json[start..self.position]).expect("JSON is UTF-8");
                wrap(name, literal, xml);
            }
        }
    }

    /// The members of the JSON object at the cursor, as XML elements.
    fn members(&mut self) -> String {
        self.position += 1;
        let mut children = String::new();
        while self.json[self.position] != b'}' {
            let key = self.string();
            self.position += 1; // ':'
            self.element(&key, &mut children);
            if self.json[self.position] == b',' {
                self.position += 1;
            }
        }
        self.position += 1;
        children
    }

    /// The JSON string at the cursor, unescaped.
    fn string(&mut self) -> String {
        let start = self.position;
        self.position += 1;
        while self.json[self.position] != b'"' {
            self.position += if self.json[self.position] == b'\\' { 2 } else { 1 };
        }
        self.position += 1;
        serde_json::from_slice(&self.json[start..self.position]).expect("serde_json wrote a valid string")
    }
}

fn wrap(name: &str, content: &str, xml: &mut String) {
    if content.is_empty() {
        xml.push_str(&format!("<{name} />"));
    } else {
        xml.push_str(&format!("<{name}>{content}</{name}>"));
    }
}
