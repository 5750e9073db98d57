//! Event payloads generated from `proto/`. Wire messages only: no behaviour lives here.
#![allow(clippy::all)]

pub mod tenancy {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.tenancy.v1.rs"));
    }
}
pub mod mpi {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.mpi.v1.rs"));
    }
}
pub mod audit {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.audit.v1.rs"));
    }
}
pub mod access {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.access.v1.rs"));
    }
}
pub mod referrals {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.referrals.v1.rs"));
    }
}
pub mod pas {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.pas.v1.rs"));
    }
}
pub mod scheduling {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.scheduling.v1.rs"));
    }
}
pub mod events {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.events.v1.rs"));
    }
}
pub mod clinicaldocs {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/tessera.clinicaldocs.v1.rs"));
    }
}
