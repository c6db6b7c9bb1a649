//! The parts of the page that are not on its first screen. The split build
//! (`cargo xtask`'s page build, `--features split`) puts each in a wasm file
//! of its own, fetched the first time the part is drawn, so the first load
//! carries only the query panel. Without the feature (trunk alone, the wasm
//! tests) they are plain functions, called the same way.

use std::future::Future;

use leptos::prelude::*;

/// A part's wasm file could not be fetched: the connection dropped, or a
/// newer build of the app replaced the page's files.
#[derive(Clone, Copy, Debug)]
pub struct PartMissing;

#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for PartMissing {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        // The loader has written the cause to the console.
        PartMissing
    }
}

/// Defines `async fn $name(…) -> Result<AnyView, PartMissing>`, a split
/// point in the split build: its body and all it alone calls go to a wasm
/// file of their own. A failed fetch is an error for the page to show, not
/// a panic, and the next call fetches again. With `preload $preload`, also
/// `async fn $preload()`, which fetches the part's files ahead of its first
/// use; a failure there is the first call's to report.
macro_rules! split_point {
    (
        $(#[$doc:meta])*
        pub fn $name:ident($($argument:ident: $type:ty),* $(,)?) -> AnyView $(, preload $preload:ident)? $body:block
    ) => {
        $(#[$doc])*
        #[cfg(feature = "split")]
        #[::leptos::wasm_split::wasm_split(
            $name,
            wasm_split_path = ::leptos::wasm_split,
            fallible
            $(, preload($preload))?
        )]
        pub fn $name($($argument: $type),*) -> Result<AnyView, $crate::split::PartMissing> {
            Ok($body)
        }

        $(#[$doc])*
        #[cfg(not(feature = "split"))]
        pub async fn $name($($argument: $type),*) -> Result<AnyView, $crate::split::PartMissing> {
            Ok($body)
        }

        $(
            #[cfg(not(feature = "split"))]
            pub async fn $preload() -> Result<(), $crate::split::PartMissing> {
                Ok(())
            }
        )?
    };
}
pub(crate) use split_point;

/// Draws a split part once its file has come: a short note while it
/// comes, and what to do if it cannot.
pub fn when_loaded(
    part: impl Future<Output = Result<AnyView, PartMissing>> + Send + 'static,
) -> impl IntoView {
    let fallback = || view! { <p class="part-loading" role="status">"Loading this part of the page…"</p> };
    view! {
        <Suspense fallback>
            {Suspend::new(async move {
                part.await.unwrap_or_else(|PartMissing| {
                    view! {
                        <div class="problem" role="alert">
                            <p class="problem-title">"This part of the page could not be loaded"</p>
                            <p class="problem-advice">
                                "The connection to the portal may have dropped, or a newer version of it was installed. Reload the page."
                            </p>
                        </div>
                    }
                    .into_any()
                })
            })}
        </Suspense>
    }
}
