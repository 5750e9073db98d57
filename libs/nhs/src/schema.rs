//! How each type appears in an OpenAPI document: as the string it serialises to, with the
//! pattern its `parse` accepts on output (a client reading a response can rely on it).
use crate::{NhsNumber, OdsCode, Postcode, VerificationStatus};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

fn string(description: &str, pattern: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .into()
}

impl PartialSchema for NhsNumber {
    fn schema() -> RefOr<Schema> {
        string("A 10-digit NHS number (Modulus 11 checked)", "^[0-9]{10}$")
    }
}
impl ToSchema for NhsNumber {}

impl PartialSchema for OdsCode {
    fn schema() -> RefOr<Schema> {
        string("An ODS code, upper case", "^[A-Z0-9]{3,10}$")
    }
}
impl ToSchema for OdsCode {}

impl PartialSchema for Postcode {
    fn schema() -> RefOr<Schema> {
        string(
            "A UK postcode, outward and inward parts separated by one space",
            "^[A-Z0-9]{2,4} [0-9][A-Z]{2}$",
        )
    }
}
impl ToSchema for Postcode {}

impl PartialSchema for VerificationStatus {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("UKCore-NHSNumberVerificationStatus code"))
            .enum_values(Some(["01", "02", "03", "04", "05", "06", "07", "08"]))
            .into()
    }
}
impl ToSchema for VerificationStatus {}
