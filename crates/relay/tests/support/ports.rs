//! Ports for servers a test starts itself, chosen before they listen.
//! Also the browser tests' (by `#[path]`).

use std::{
    hash::{BuildHasher, Hasher},
    net::TcpListener,
};

/// A free loopback port below the kernel's range for port 0 (from 32768 on
/// Linux): tests run beside each other start servers on port 0, and one of
/// them took a port handed out here before its own server could bind it.
pub fn free_loopback_port() -> u16 {
    loop {
        let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
        let port = 20_000 + u16::try_from(random % 12_000).expect("below 12,000");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
