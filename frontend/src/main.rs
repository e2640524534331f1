//! Mounts the widget; everything else is in the library.

fn main() {
    // The page's own loading state (index.html) gives way to the widget.
    if let Some(loading) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("kasir-loading"))
    {
        loading.remove();
    }
    leptos::mount::mount_to_body(kasir_frontend::App);
}
