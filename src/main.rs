fn main() {
    console_error_panic_hook::set_once();
    // index.html says the app is starting, for as long as it does not, and
    // lays out its type samples meanwhile.
    if let Some(document) = web_sys::window().and_then(|window| window.document()) {
        for id in ["starting", "type-samples"] {
            if let Some(element) = document.get_element_by_id(id) {
                element.remove();
            }
        }
    }
    leptos::mount::mount_to_body(billing_portal::App);
}
