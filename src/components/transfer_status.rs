use leptos::prelude::*;

use crate::{format, transfer::Transfer};

/// Bytes received, percent when the length is known, elapsed time, and a
/// cancel button that aborts the request.
#[component]
pub fn TransferStatus(
    transfer: RwSignal<Transfer>,
    on_cancel: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let now = RwSignal::new(js_sys::Date::now());
    let ticker =
        set_interval_with_handle(move || now.set(js_sys::Date::now()), std::time::Duration::from_millis(200))
            .ok();
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
    });
    // The progress line changes five times a second; a screen reader is
    // told only when the transfer starts, ends or is cancelled.
    let announced = Memo::new(move |_| match transfer.get() {
        Transfer::Running { .. } => "Fetching the document…".to_owned(),
        Transfer::Done(loaded, _) => loaded.announcement(),
        Transfer::Cancelled { received } => format!("Cancelled after {}.", format::bytes(received)),
        _ => String::new(),
    });
    view! {
        <p class="visually-hidden" role="status">{announced}</p>
        <div class="transfer">
            {move || match transfer.get() {
                Transfer::Running { received, total, started_ms, reading } => {
                    let tenths = ((now.get() - started_ms) / 100.0).max(0.0) as u64;
                    let percent = total.filter(|total| *total > 0).map(|total| received * 100 / total);
                    let of_total = total.map(|total| format!(" of {}", format::bytes(total))).unwrap_or_default();
                    view! {
                        <div class="progress-line">
                            <progress max="100" value=percent.map(|percent| percent.to_string())></progress>
                            <span class="received">{format!("{}{of_total}", format::bytes(received))}</span>
                            {percent.map(|percent| view! { <span class="percent">{format!("{percent} %")}</span> })}
                            {reading.then(|| view! { <span class="reading">"Reading the document…"</span> })}
                            <span class="elapsed">{format!("{}.{} s", tenths / 10, tenths % 10)}</span>
                            <button type="button" class="cancel" on:click=move |_| on_cancel()>"Cancel"</button>
                        </div>
                    }
                    .into_any()
                }
                Transfer::Cancelled { received } => {
                    view! { <p class="cancelled">{format!("Cancelled after {}.", format::bytes(received))}</p> }.into_any()
                }
                _ => ().into_any(),
            }}
        </div>
    }
}
