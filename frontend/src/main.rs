//! Mounts the widget; everything else is in the library.

fn main() {
    leptos::mount::mount_to_body(kasir_frontend::App);
}
