//! A second document the analysis asks for, as it loads: the other side
//! of the margin, the vendor's consolidated view, an earlier window.

/// Where a second document stands.
#[derive(Clone, Default)]
pub enum Fetched<T> {
    #[default]
    Idle,
    Loading,
    Failed(String),
    Loaded(T),
}

impl<T> Fetched<T> {
    pub fn is_loaded(&self) -> bool {
        matches!(self, Fetched::Loaded(_))
    }
}
