pub mod app;
pub mod profile_list;
