//! Who may use the relay: single sign-on with OpenID Connect and its
//! sessions, access tokens for scripts, signing out (also from the
//! provider's side), and the access rules that admit each person to the
//! profiles they may use.

pub mod access;
pub mod backchannel;
pub mod claims;
pub mod provider;
pub mod sessions;
pub mod sign_in;
pub mod sign_out;
pub mod state;
pub mod tokens;
