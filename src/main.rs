fn main() {
    console_error_panic_hook::set_once();
    // index.html says the app is starting, for as long as it does not.
    if let Some(starting) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("starting"))
    {
        starting.remove();
    }
    leptos::mount::mount_to_body(billing_portal::App);
}
