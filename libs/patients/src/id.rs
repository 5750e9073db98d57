//! The MPI's patient id as every other service holds it: parsed once at the edge, typed at
//! every store and use-case boundary.
tessera_tenancy::uuid_id!(
    /// A patient in the trust's master patient index.
    PatientId
);
