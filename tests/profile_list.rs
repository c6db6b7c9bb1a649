#![cfg(target_arch = "wasm32")]
//! The profile list mounted in a real browser DOM.

use billing::{Generation, ProfileSummary};
use billing_portal::components::profile_list::ProfileList;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let container = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&container).unwrap();
    container.unchecked_into()
}

fn profile(name: &str, environment: &str, generation: Generation) -> ProfileSummary {
    ProfileSummary {
        name: name.to_owned(),
        environment: environment.to_owned(),
        generation,
        versions: generation.versions().iter().map(|v| (*v).to_owned()).collect(),
        endpoints: generation.endpoints().to_vec(),
    }
}

fn texts(container: &web_sys::HtmlElement, selector: &str) -> Vec<String> {
    let nodes = container.query_selector_all(selector).unwrap();
    (0..nodes.length()).map(|index| nodes.item(index).unwrap().text_content().unwrap_or_default()).collect()
}

#[wasm_bindgen_test]
fn lists_each_profile_with_environment_and_end_of_life_versions() {
    let container = fresh_container();
    let profiles = vec![
        profile("acme-production", "PRODUCTION", Generation::Legacy),
        profile("acme-test", "TEST", Generation::Current),
    ];
    let _mounted = leptos::mount::mount_to(container.clone(), move || view! { <ProfileList profiles /> });

    assert_eq!(texts(&container, ".profile-name"), ["acme-production", "acme-test"]);
    assert_eq!(texts(&container, ".environment"), ["PRODUCTION", "TEST"]);
    assert_eq!(texts(&container, ".versions"), ["v1 (end-of-life), v2 (end-of-life), v3", "v1"]);
    assert!(container.query_selector(".empty").unwrap().is_none());
}

#[wasm_bindgen_test]
fn an_empty_list_says_so_instead_of_rendering_nothing() {
    let container = fresh_container();
    let _mounted =
        leptos::mount::mount_to(container.clone(), || view! { <ProfileList profiles=Vec::new() /> });

    assert!(texts(&container, ".profile").is_empty());
    let message = texts(&container, ".empty").join("");
    assert!(message.contains("no API profiles"), "{message}");
}
