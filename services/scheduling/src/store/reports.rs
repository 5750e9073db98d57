//! Reports over the trust's clinics: utilisation per session (capacity used, attendance, DNA
//! and cancellation rates, new to follow-up), folded per clinic on request; and the free
//! capacity per treatment function for the weeks ahead.
use super::{stmt, StoreError, ZONE};
use chrono::NaiveDate;
use sea_orm::{DatabaseTransaction, FromQueryResult};
use serde::Serialize;
use uuid::Uuid;

/// One session's (or, folded, one clinic's) use of its places. Cancellations include the
/// old appointment of a reschedule (it was cancelled as the asker's).
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Utilisation {
    pub clinic_code: String,
    pub treatment_function: String,
    /// Empty when folded per clinic.
    pub session_id: Option<Uuid>,
    pub on_date: Option<NaiveDate>,
    pub sessions: i64,
    /// Places offered (slot capacity, overbooking aside).
    pub capacity: i64,
    /// Appointments not cancelled (booked, attended, not seen, DNA).
    pub used: i64,
    pub attended: i64,
    pub did_not_attend: i64,
    pub not_seen: i64,
    pub cancelled_by_patient: i64,
    pub cancelled_by_provider: i64,
    /// Appointments not cancelled in new, urgent or two-week-wait slots, and in follow-up ones.
    pub new_appointments: i64,
    pub follow_ups: i64,
    /// `used / capacity`.
    #[sea_orm(skip)]
    pub utilisation: Option<f64>,
    /// DNA (3) and not seen (7) over every appointment that reached its day.
    #[sea_orm(skip)]
    pub dna_rate: Option<f64>,
    /// Cancellations by each side over all appointments made.
    #[sea_orm(skip)]
    pub patient_cancellation_rate: Option<f64>,
    #[sea_orm(skip)]
    pub provider_cancellation_rate: Option<f64>,
    #[sea_orm(skip)]
    pub new_to_follow_up: Option<f64>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| ((a as f64 / b as f64) * 1000.0).round() / 1000.0)
}

impl Utilisation {
    fn rated(mut self) -> Self {
        let made = self.used + self.cancelled_by_patient + self.cancelled_by_provider;
        self.utilisation = ratio(self.used, self.capacity);
        self.dna_rate = ratio(
            self.did_not_attend + self.not_seen,
            self.attended + self.did_not_attend + self.not_seen,
        );
        self.patient_cancellation_rate = ratio(self.cancelled_by_patient, made);
        self.provider_cancellation_rate = ratio(self.cancelled_by_provider, made);
        self.new_to_follow_up = ratio(self.new_appointments, self.follow_ups);
        self
    }

    fn add(&mut self, o: &Utilisation) {
        self.sessions += o.sessions;
        self.capacity += o.capacity;
        self.used += o.used;
        self.attended += o.attended;
        self.did_not_attend += o.did_not_attend;
        self.not_seen += o.not_seen;
        self.cancelled_by_patient += o.cancelled_by_patient;
        self.cancelled_by_provider += o.cancelled_by_provider;
        self.new_appointments += o.new_appointments;
        self.follow_ups += o.follow_ups;
    }
}

const PER_SESSION: &str = "
WITH places AS (
  SELECT se.id AS session_id, se.clinic_id, se.on_date, sum(s.capacity)::bigint AS capacity
    FROM session se JOIN slot s ON s.session_id = se.id
   WHERE se.on_date BETWEEN $1 AND $2 AND ($3::uuid IS NULL OR se.clinic_id = $3)
   GROUP BY se.id),
made AS (
  SELECT s.session_id,
         count(*) FILTER (WHERE a.status <> 'cancelled') AS used,
         count(*) FILTER (WHERE a.attendance_code IN (5, 6)) AS attended,
         count(*) FILTER (WHERE a.attendance_code = 3) AS did_not_attend,
         count(*) FILTER (WHERE a.attendance_code = 7) AS not_seen,
         count(*) FILTER (WHERE a.attendance_code = 2) AS cancelled_by_patient,
         count(*) FILTER (WHERE a.attendance_code = 4) AS cancelled_by_provider,
         count(*) FILTER (WHERE a.status <> 'cancelled' AND s.slot_type <> 'follow-up') AS new_appointments,
         count(*) FILTER (WHERE a.status <> 'cancelled' AND s.slot_type = 'follow-up') AS follow_ups
    FROM appointment a JOIN slot s ON s.id = a.slot_id
   WHERE s.session_id IN (SELECT session_id FROM places)
   GROUP BY s.session_id)
SELECT c.code AS clinic_code, c.treatment_function, p.session_id, p.on_date, 1::bigint AS sessions,
       p.capacity, coalesce(m.used, 0) AS used, coalesce(m.attended, 0) AS attended,
       coalesce(m.did_not_attend, 0) AS did_not_attend, coalesce(m.not_seen, 0) AS not_seen,
       coalesce(m.cancelled_by_patient, 0) AS cancelled_by_patient,
       coalesce(m.cancelled_by_provider, 0) AS cancelled_by_provider,
       coalesce(m.new_appointments, 0) AS new_appointments, coalesce(m.follow_ups, 0) AS follow_ups
  FROM places p JOIN clinic c ON c.id = p.clinic_id LEFT JOIN made m ON m.session_id = p.session_id
 ORDER BY c.code, p.on_date, p.session_id";

/// Utilisation of sessions on local dates `from`..=`to` (of one clinic, if given): one row
/// per session, or per clinic when `per_clinic`.
pub async fn utilisation(
    txn: &DatabaseTransaction,
    from: NaiveDate,
    to: NaiveDate,
    clinic: Option<Uuid>,
    per_clinic: bool,
) -> Result<Vec<Utilisation>, StoreError> {
    let rows = Utilisation::find_by_statement(stmt(
        PER_SESSION,
        vec![from.into(), to.into(), clinic.into()],
    ))
    .all(txn)
    .await?;
    if !per_clinic {
        return Ok(rows.into_iter().map(Utilisation::rated).collect());
    }
    let mut folded: Vec<Utilisation> = Vec::new();
    for r in rows {
        match folded.last_mut() {
            Some(last) if last.clinic_code == r.clinic_code => last.add(&r),
            _ => folded.push(Utilisation {
                session_id: None,
                on_date: None,
                ..r
            }),
        }
    }
    Ok(folded.into_iter().map(Utilisation::rated).collect())
}

/// Places in the weeks ahead for one treatment function: offered, booked, free.
#[derive(Debug, Clone, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct Capacity {
    pub treatment_function: String,
    /// The Monday the week starts on (local).
    pub week: NaiveDate,
    pub capacity: i64,
    pub booked: i64,
    pub free: i64,
}

/// Free capacity per treatment function for the next `weeks` weeks (from this week's
/// Monday), counting slots not yet started in sessions not cancelled.
pub async fn capacity(txn: &DatabaseTransaction, weeks: u32) -> Result<Vec<Capacity>, StoreError> {
    Ok(Capacity::find_by_statement(stmt(
        &format!(
            "SELECT c.treatment_function, date_trunc('week', se.on_date)::date AS week,
                    sum(s.capacity)::bigint AS capacity, sum(s.booked)::bigint AS booked,
                    sum(greatest(s.capacity - s.booked, 0))::bigint AS free
               FROM slot s JOIN session se ON se.id = s.session_id JOIN clinic c ON c.id = s.clinic_id
              WHERE NOT s.blocked AND se.cancelled_at IS NULL AND s.starts_at > now()
                AND se.on_date < date_trunc('week', (now() AT TIME ZONE '{ZONE}'))::date + 7 * $1::int
              GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        vec![(weeks.clamp(1, 52) as i32).into()],
    ))
    .all(txn)
    .await?)
}
