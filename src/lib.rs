//! The billing portal web app: Leptos components over the relay's API and
//! crates/billing's model.

pub mod api;
pub mod components;

pub use components::app::App;
