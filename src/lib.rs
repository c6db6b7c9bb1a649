//! The billing portal web app: Leptos components over the relay's API and
//! crates/billing's model.

pub mod api;
pub mod archived;
pub mod choices;
pub mod columns;
pub mod components;
pub mod fetch;
pub mod fetched;
pub mod filter_chips;
pub mod format;
pub mod kept_here;
pub mod loaded;
pub mod month;
pub mod query;
pub mod scrolling;
pub mod slices;
pub mod split;
pub mod storage;
pub mod tabs;
pub mod team;
pub mod transfer;
mod worker_client;

pub use components::app::App;
