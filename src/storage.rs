//! What the browser remembers between visits (localStorage), where it may
//! be refused: private windows and full quotas only lose the memory.

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn recall(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

pub fn remember(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

pub fn forget(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}
