//! The scheduling service's HTTP API (JSON): clinics and their templates, sessions, slots
//! and holds, appointments, the rebooking, ready-to-book and slot-issue worklists. Handlers parse, authorise, run one
//! use case of `app`, and answer.
mod bodies;
mod booking;
mod clinics;
pub mod errors;
mod fhir;
mod reports;
mod worklists;

use actix_web::http::Method;
use tessera_edge::gate::{Gate, HasGate};
use tessera_edge::openapi::ApiInfo;
use tessera_edge::operations::Operations;
use utoipa_actix_web::service_config::ServiceConfig;

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;

pub type Caller = tessera_edge::gate::Caller<AppState>;
pub type Authorized = tessera_edge::gate::Authorized<AppState>;

pub struct AppState {
    pub gate: Gate,
    pub config: crate::Config,
}

impl HasGate for AppState {
    fn gate(&self) -> &Gate {
        &self.gate
    }
}

/// What the API document says of this service as a whole.
pub const INFO: ApiInfo = ApiInfo {
    title: "Tessera scheduling",
    description: "Clinics, session templates, sessions and slots in the clinic's local time (Europe/London), holds, appointments booked atomically (no slot over capacity, no patient in two places), cancellations and attendance outcomes, the rebooking worklist. Tenant from the bearer token's selected role. Errors are RFC 9457 problem details (docs/contracts/api-errors.md).",
};

/// Every route's action and the activity the caller's selected role needs: the one place
/// the gate and the API document read it from (ADR 26).
pub fn operations(config: &crate::Config) -> Operations {
    let (book, clinic) = (
        &config.roles.booking_activity,
        &config.roles.clinic_activity,
    );
    Operations::new()
        .activity(POST, "/clinics", "clinic.create", clinic)
        .activity(GET, "/clinics", "clinic.list", clinic)
        .activity(POST, "/clinics/{id}/templates", "template.create", clinic)
        .activity(POST, "/templates/{id}/sessions", "session.generate", clinic)
        .activity(PUT, "/bank-holidays/{date}", "bank-holiday.set", clinic)
        .activity(POST, "/sessions/{id}/cancel", "session.cancel", clinic)
        .activity(GET, "/slots", "slot.search", book)
        .activity(GET, "/slots/{id}", "slot.read", book)
        .activity(POST, "/slots/{id}/holds", "slot.hold", book)
        .activity(POST, "/appointments", "appointment.book", book)
        .activity(GET, "/appointments/{id}", "appointment.read", book)
        .activity(
            POST,
            "/appointments/{id}/cancel",
            "appointment.cancel",
            book,
        )
        .activity(
            POST,
            "/appointments/{id}/reschedule",
            "appointment.reschedule",
            book,
        )
        .activity(
            POST,
            "/appointments/{id}/outcome",
            "appointment.outcome",
            book,
        )
        .activity(GET, "/worklists/rebook", "worklist.rebook", book)
        .activity(
            GET,
            "/worklists/ready-to-book",
            "worklist.ready-to-book",
            book,
        )
        .activity(GET, "/worklists/slot-issues", "worklist.slot-issues", book)
        .activity(
            GET,
            "/worklists/merge-reviews",
            "worklist.merge-reviews",
            book,
        )
        .activity(GET, "/reports/utilisation", "report.utilisation", clinic)
        .activity(GET, "/reports/capacity", "report.capacity", book)
        .public(GET, "/fhir/metadata")
        .activity(GET, "/fhir/Schedule", "fhir.schedule.search", book)
        .activity(GET, "/fhir/Schedule/{id}", "fhir.schedule.read", book)
        .activity(GET, "/fhir/Slot", "fhir.slot.search", book)
        .activity(GET, "/fhir/Slot/{id}", "fhir.slot.read", book)
        .activity(GET, "/fhir/Appointment", "fhir.appointment.search", book)
        .activity(GET, "/fhir/Appointment/{id}", "fhir.appointment.read", book)
        .activity(POST, "/fhir/Appointment", "fhir.appointment.create", book)
        .activity(
            PUT,
            "/fhir/Appointment/{id}",
            "fhir.appointment.update",
            book,
        )
}

/// Mounts every handler; each carries its `#[utoipa::path]`, so mounting it documents it.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(clinics::create)
        .service(clinics::list)
        .service(clinics::create_template)
        .service(clinics::generate)
        .service(clinics::bank_holiday)
        .service(clinics::cancel_session)
        .service(booking::availability)
        .service(booking::slot)
        .service(booking::hold)
        .service(booking::book)
        .service(booking::read)
        .service(booking::cancel)
        .service(booking::reschedule)
        .service(booking::outcome)
        .service(worklists::rebook_worklist)
        .service(worklists::ready_to_book)
        .service(worklists::slot_issues)
        .service(worklists::merge_reviews)
        .service(reports::utilisation)
        .service(reports::capacity)
        .service(fhir::capability_statement)
        .service(fhir::schedules::search_schedules)
        .service(fhir::schedules::read_schedule)
        .service(fhir::schedules::search_slots)
        .service(fhir::schedules::read_slot)
        .service(fhir::appointments::search_appointments)
        .service(fhir::appointments::create_appointment)
        .service(fhir::appointments::read_appointment)
        .service(fhir::appointments::update_appointment);
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_mounted_route_is_documented_and_has_one_row_in_the_operation_table() {
        let ops = super::operations(&crate::Config::default());
        let doc = tessera_edge::openapi::document(&super::INFO, &ops, super::routes);
        if let Ok(to) = std::env::var("TESSERA_OPENAPI_OUT") {
            std::fs::write(to, serde_json::to_string_pretty(&doc).unwrap_or_default()).ok();
        }
        let mismatches = tessera_edge::openapi::mismatches(&doc, &ops);
        assert!(mismatches.is_empty(), "{mismatches:#?}");
        assert_eq!(
            doc["paths"]["/appointments"]["post"]["x-activities"],
            serde_json::json!(["B1120"])
        );
    }
}
