//! The widget's components, one per file.

mod card_form;
mod field;
mod language_switch;

pub use card_form::CardForm;
pub use field::Field;
pub use language_switch::LanguageSwitch;
