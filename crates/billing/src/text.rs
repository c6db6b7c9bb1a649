//! A document's text, each distinct value kept once.
//!
//! Most of an invoice document's text repeats: every line names its
//! customer, product, SKU, charge type, currency and units again. Read as
//! owned strings, 100,000 lines hold a million small allocations that say
//! the same few thousand things. A reader sets an [`Interner`] going for
//! the time it reads, and each value it meets is looked up there and shared.

use std::{
    borrow::Borrow,
    cell::RefCell,
    collections::HashSet,
    fmt,
    hash::{Hash, Hasher},
    ops::Deref,
    sync::Arc,
};

use serde::{Serialize, Serializer};

/// Immutable text, cheap to clone, shared with every equal value read by
/// the same interner.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Text(Arc<str>);

impl Text {
    /// The value from the interner the current read uses, or a fresh copy
    /// when nothing is being read.
    pub fn interned(value: &str) -> Self {
        CURRENT.with_borrow_mut(|current| match current {
            Some(interner) => interner.intern(value),
            None => Text::from(value),
        })
    }

    /// As [`Text::interned`], for the value of one field of the model:
    /// the same field's last value is tried before the interner's set, as
    /// most fields say on a line what they said on the line before.
    pub(crate) fn interned_for(field: FieldKey, value: &str) -> Self {
        CURRENT.with_borrow_mut(|current| match current {
            Some(interner) => interner.intern_for(field, value),
            None => Text::from(value),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::from("")
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl From<&str> for Text {
    fn from(value: &str) -> Self {
        Text(Arc::from(value))
    }
}

impl From<String> for Text {
    fn from(value: String) -> Self {
        Text(Arc::from(value))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, formatter)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, formatter)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// One field of one record of the model, told apart by where its name is
/// kept (the record's list of names is one static array).
#[derive(Clone, Copy)]
pub(crate) struct FieldKey(usize);

impl FieldKey {
    pub(crate) fn of(name: &'static &'static str) -> Self {
        FieldKey(std::ptr::from_ref(name) as usize)
    }

    /// Its place among the recent values: the names of a record lie side
    /// by side, so a record's fields never share a place.
    fn place(self) -> usize {
        (self.0 / size_of::<&str>()) % RECENT_PLACES
    }
}

/// Room for the last value of more fields than any record has.
const RECENT_PLACES: usize = 64;

/// The distinct values one document's read has met so far. Kept by a
/// reader that reads in parts (a transfer as it arrives), so the parts share.
pub struct Interner {
    values: HashSet<Text, foldhash::fast::FixedState>,
    /// The last value of each field, by its key's place.
    recent: [Option<(usize, Text)>; RECENT_PLACES],
}

impl Default for Interner {
    fn default() -> Self {
        Self { values: HashSet::default(), recent: std::array::from_fn(|_| None) }
    }
}

impl Interner {
    fn intern_for(&mut self, field: FieldKey, value: &str) -> Text {
        let place = field.place();
        if let Some((key, text)) = &self.recent[place]
            && *key == field.0
            && same(text.as_bytes(), value.as_bytes())
        {
            return text.clone();
        }
        let text = self.intern(value);
        self.recent[place] = Some((field.0, text.clone()));
        text
    }

    fn intern(&mut self, value: &str) -> Text {
        if let Some(known) = self.values.get(value) {
            return known.clone();
        }
        let text = Text::from(value);
        self.values.insert(text.clone());
        text
    }

    /// Runs `read` with this interner as the one [`Text::interned`] uses.
    /// Reads nest: an inner read's interner serves only that read.
    pub fn reading<R>(&mut self, read: impl FnOnce() -> R) -> R {
        let outer = CURRENT.replace(Some(std::mem::take(self)));
        let restore = Restore { into: self, outer };
        let result = read();
        drop(restore);
        result
    }
}

/// Names and values are short: compared in place, eight bytes at a time,
/// they cost less than a call to the C library's `memcmp`.
pub(crate) fn same(known: &[u8], value: &[u8]) -> bool {
    if known.len() != value.len() {
        return false;
    }
    let (known_words, value_words) = (known.chunks_exact(8), value.chunks_exact(8));
    let rest_same =
        known_words.remainder().iter().zip(value_words.remainder()).all(|(known, byte)| known == byte);
    rest_same && known_words.zip(value_words).all(|(known, word)| word_of(known) == word_of(word))
}

fn word_of(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes.try_into().expect("eight bytes"))
}

/// Runs `read` with the interner of the read going on, or with one of its
/// own when none is: a whole document read at once shares within itself.
pub(crate) fn within_a_read<R>(read: impl FnOnce() -> R) -> R {
    if CURRENT.with_borrow(Option::is_some) { read() } else { Interner::default().reading(read) }
}

thread_local! {
    static CURRENT: RefCell<Option<Interner>> = const { RefCell::new(None) };
}

/// Hands the interner back to its owner however the read ends, unwinding
/// included, and puts back whatever read was going on around it.
struct Restore<'owner> {
    into: &'owner mut Interner,
    outer: Option<Interner>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let ours = CURRENT.replace(self.outer.take());
        *self.into = ours.unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Interner {
        fn len(&self) -> usize {
            self.values.len()
        }
    }

    #[test]
    fn same_is_equality_whatever_the_length_and_wherever_a_difference_lies() {
        for length in 0..24 {
            let known: Vec<u8> = (0..length).map(|at| b'a' + at as u8).collect();
            assert!(same(&known, &known.clone()), "{length}");
            for at in 0..length {
                let mut other = known.clone();
                other[at] ^= 0x20;
                assert!(!same(&known, &other), "a difference at {at} of {length}");
            }
            assert!(!same(&known, &known[..length.saturating_sub(1)]) || length == 0);
        }
    }

    #[test]
    fn equal_values_read_together_share_one_allocation() {
        let mut interner = Interner::default();
        let (first, second, other) =
            interner.reading(|| (Text::interned("EUR"), Text::interned("EUR"), Text::interned("USD")));
        assert!(Arc::ptr_eq(&first.0, &second.0));
        assert!(!Arc::ptr_eq(&first.0, &other.0));
        assert_eq!(interner.len(), 2);
        let later = interner.reading(|| Text::interned("EUR"));
        assert!(Arc::ptr_eq(&first.0, &later.0), "an interner kept between parts shares across them");
    }

    #[test]
    fn a_fields_last_value_is_shared_and_a_new_one_is_looked_up_among_all() {
        static NAMES: [&str; 2] = ["ChargeType", "SKU"];
        let (charge, sku) = (FieldKey::of(&NAMES[0]), FieldKey::of(&NAMES[1]));
        let mut interner = Interner::default();
        let read = interner.reading(|| {
            [
                Text::interned_for(charge, "Usage Fee"),
                Text::interned_for(charge, "Usage Fee"),
                Text::interned_for(sku, "Usage Fee"),
                Text::interned_for(charge, "Correction"),
                Text::interned_for(charge, "Usage Fee"),
            ]
        });
        assert_eq!(
            read.each_ref().map(|text| text.as_str()),
            ["Usage Fee", "Usage Fee", "Usage Fee", "Correction", "Usage Fee"]
        );
        for same in [&read[1], &read[2], &read[4]] {
            assert!(Arc::ptr_eq(&read[0].0, &same.0));
        }
        assert_eq!(interner.len(), 2);
    }

    #[test]
    fn outside_a_read_each_value_is_its_own() {
        let first = Text::interned("EUR");
        let second = Text::interned("EUR");
        assert_eq!(first, second);
        assert!(!Arc::ptr_eq(&first.0, &second.0));
    }

    #[test]
    fn a_nested_read_keeps_its_own_values_and_the_outer_read_goes_on() {
        let mut outer = Interner::default();
        let mut inner = Interner::default();
        let (before, after) = outer.reading(|| {
            let before = Text::interned("EUR");
            inner.reading(|| Text::interned("USD"));
            (before, Text::interned("EUR"))
        });
        assert!(Arc::ptr_eq(&before.0, &after.0));
        assert_eq!((outer.len(), inner.len()), (1, 1));
    }

    #[test]
    fn a_read_that_panics_still_gives_its_values_back() {
        let mut interner = Interner::default();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            interner.reading(|| {
                Text::interned("EUR");
                panic!("a reader gave up");
            })
        }));
        assert!(outcome.is_err());
        assert_eq!(interner.len(), 1);
        assert!(CURRENT.with_borrow(Option::is_none), "no interner is left behind");
    }
}
