//! The parts of the page that are not on its first screen. The split build
//! (`cargo xtask`'s page build, `--features split`) puts each in a wasm file
//! of its own, fetched the first time the part is drawn, so the first load
//! carries only the query panel. Without the feature (the wasm tests,
//! `cargo check`) they are plain functions, called the same way.

use std::future::Future;

use leptos::prelude::*;

/// A part's wasm file could not be fetched: the connection dropped, or a
/// newer build of the app replaced the page's files.
#[derive(Clone, Copy, Debug)]
pub struct PartMissing;

/// [`PartMissing`] in words, where a sentence is shown.
pub const PART_MISSING: &str = "a part of the page could not be loaded: the connection to the portal may have dropped, or a newer version of it was installed; reload the page";

#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for PartMissing {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        // The loader has written the cause to the console.
        PartMissing
    }
}

/// Defines `async fn $name(…) -> Result<$output, PartMissing>`, a split
/// point in the split build: its body and all it alone calls go to a wasm
/// file of their own. The split function starts the body and hands back
/// its future, which lives in the part's file; the caller awaits both. A
/// failed fetch is an error for the page to show, not a panic, and the next
/// call fetches again. With `preload $preload`, also `async fn $preload()`,
/// which fetches the part's files ahead of its first use; a failure there
/// is the first call's to report.
macro_rules! split_task {
    (
        $(#[$doc:meta])*
        pub fn $name:ident($($argument:ident: $type:ty),* $(,)?) -> $output:ty $(, preload $preload:ident)? $body:block
    ) => {
        $(#[$doc])*
        #[cfg(feature = "split")]
        #[::leptos::wasm_split::wasm_split(
            $name,
            wasm_split_path = ::leptos::wasm_split,
            fallible,
            return_wrapper(let started = _; { Ok(started?.await) } -> Result<$output, $crate::split::PartMissing>)
            $(, preload($preload))?
        )]
        pub fn $name(
            $($argument: $type),*
        ) -> Result<::std::pin::Pin<Box<dyn ::std::future::Future<Output = $output>>>, $crate::split::PartMissing> {
            Ok(Box::pin(async move $body))
        }

        $(#[$doc])*
        #[cfg(not(feature = "split"))]
        pub async fn $name($($argument: $type),*) -> Result<$output, $crate::split::PartMissing> {
            Ok(async move $body.await)
        }

        $(
            #[cfg(not(feature = "split"))]
            pub async fn $preload() -> Result<(), $crate::split::PartMissing> {
                Ok(())
            }
        )?
    };
}
pub(crate) use split_task;

/// [`split_task!`] for a part of the page: `async fn $name(…) ->
/// Result<AnyView, PartMissing>`. The body runs untracked, as a component's
/// does: the caller is not drawn again when a signal the part reads
/// changes, the part's own closures are.
macro_rules! split_point {
    (
        $(#[$doc:meta])*
        pub fn $name:ident($($argument:ident: $type:ty),* $(,)?) -> AnyView $(, preload $preload:ident)? $body:block
    ) => {
        $crate::split::split_task! {
            $(#[$doc])*
            pub fn $name($($argument: $type),*) -> ::leptos::prelude::AnyView $(, preload $preload)? {
                ::leptos::prelude::untrack(|| $body)
            }
        }
    };
}
pub(crate) use split_point;

/// Starts fetching a part's files with its `preload` function, and leaves
/// them to come: a part that could not be fetched says so when it is used.
pub fn preload_soon<T>(preload: impl Future<Output = T> + 'static) {
    leptos::task::spawn_local(async {
        let _ = preload.await;
    });
}

/// Draws a split part once its file has come: a short note while it
/// comes, and what to do if it cannot. Not a `<Suspense>`: inside one, a
/// part's inputs were drawn anew when a signal changed under them (a
/// publisher being typed lost focus and was saved as "undefined"). Here the
/// part is built once, under the caller's owner, and then lives like any
/// other view; the task ends with that owner.
pub fn when_loaded(part: impl Future<Output = Result<AnyView, PartMissing>> + 'static) -> impl IntoView {
    drawn_when_loaded(part, || {
        view! { <p class="part-loading" role="status">"Loading this part of the page…"</p> }.into_any()
    })
}

/// [`when_loaded`] with nothing shown while the part comes: for a part that
/// adds to a screen already usable, such as an offer.
pub fn when_loaded_quietly(
    part: impl Future<Output = Result<AnyView, PartMissing>> + 'static,
) -> impl IntoView {
    drawn_when_loaded(part, || ().into_any())
}

fn drawn_when_loaded(
    part: impl Future<Output = Result<AnyView, PartMissing>> + 'static,
    loading: fn() -> AnyView,
) -> impl IntoView {
    let loaded = RwSignal::new_local(None::<Result<AnyView, PartMissing>>);
    leptos::task::spawn_local_scoped_with_cancellation(async move {
        let part = part.await;
        loaded.set(Some(part));
    });
    move || {
        loaded.track();
        match loaded.try_update_untracked(Option::take).flatten() {
            None => loading(),
            Some(Ok(part)) => part,
            Some(Err(PartMissing)) => view! {
                <div class="problem" role="alert">
                    <p class="problem-title">"This part of the page could not be loaded"</p>
                    <p class="problem-advice">
                        "The connection to the portal may have dropped, or a newer version of it was installed. Reload the page."
                    </p>
                </div>
            }
            .into_any(),
        }
    }
}
