//! The MPI's HTTP errors: the shared [`ApiError`] (RFC 9457 problem details for the JSON API,
//! `OperationOutcome` for FHIR), with the MPI's field paths mapped to FHIRPath on Patient.
pub use tessera_edge::problem::{ApiError, Flavour};

/// A validation error whose FHIR answer names Patient paths.
pub fn validation(errors: Vec<crate::domain::FieldError>) -> ApiError {
    ApiError::validation(errors).with_fhir_paths(fhir_expression)
}

/// Maps a JSON API field path to a FHIRPath expression on Patient.
pub fn fhir_expression(field: &str) -> String {
    let (head, rest) = field
        .split_once(['.', '['])
        .map(|(h, _)| (h, &field[h.len()..]))
        .unwrap_or((field, ""));
    let base = match head {
        "nhs_number" | "local_numbers" => "Patient.identifier",
        "nhs_number_verification_status" => "Patient.identifier.extension",
        "names" => "Patient.name",
        "birth_date" => "Patient.birthDate",
        "administrative_sex" => "Patient.gender",
        "addresses" => "Patient.address",
        "telecom" => "Patient.telecom",
        "general_practice" => "Patient.generalPractitioner",
        _ => "Patient",
    };
    if head == "nhs_number" || head == "local_numbers" || rest.is_empty() {
        base.to_string()
    } else {
        let rest = rest
            .replace(".postcode", ".postalCode")
            .replace(".period_start", ".period.start")
            .replace(".period_end", ".period.end");
        format!("{base}{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_become_fhir_expressions() {
        assert_eq!(fhir_expression("nhs_number"), "Patient.identifier");
        assert_eq!(fhir_expression("names[0].family"), "Patient.name[0].family");
        assert_eq!(
            fhir_expression("addresses[1].postcode"),
            "Patient.address[1].postalCode"
        );
        assert_eq!(fhir_expression("birth_date"), "Patient.birthDate");
    }
}
