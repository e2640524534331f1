//! Schemas for the types whose JSON form the derive cannot see (the wire
//! enums, whose names live in their parsers, and `Idr`), built only with
//! the `openapi` feature, which the server turns on and the widget does not.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

/// A string that is one of `values`.
pub(crate) fn string_enum(values: &[&'static str]) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).into()
}

/// Whole rupiah: a non-negative integer, never a float or a string.
pub(crate) fn whole_rupiah() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .description(Some("Whole rupiah (IDR has no minor unit in Kasir's API)."))
        .into()
}
