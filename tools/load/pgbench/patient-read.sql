-- The database work of one audited MPI patient read (GET /patients/{id}), for pgbench:
-- the patient by id, the access projection for that patient and caller, the audit record and
-- its outbox event, in one transaction. Run on the `bench` copy of a trust's schema
-- (`cargo xtask floor`); the first statement picks a patient and is not part of the read.
\set k random(1, :ids)
SELECT id::text AS pid FROM patient_ids WHERE n = :k \gset
BEGIN;
SELECT * FROM patient WHERE id = :pid::uuid;
WITH teams AS (SELECT team FROM access_team_member WHERE user_id = 'bench-user')
SELECT
  (SELECT coalesce(json_agg(json_build_array(patient_id, user_id, team)), '[]')::text
     FROM access_relationship
    WHERE patient_id = ANY(ARRAY[:pid])
      AND (user_id = 'bench-user' OR team = ANY('{}'::text[]) OR team IN (SELECT team FROM teams))) AS rels,
  (SELECT coalesce(json_agg(json_build_array(patient_id, expires_at)), '[]')::text
     FROM access_break_glass WHERE patient_id = ANY(ARRAY[:pid]) AND user_id = 'bench-user') AS glass,
  (SELECT coalesce(json_agg(json_build_array(patient_id, item, level, users, teams)), '[]')::text
     FROM access_seal WHERE patient_id = ANY(ARRAY[:pid])) AS seals,
  (SELECT coalesce(json_agg(json_build_array(patient_id, sharing)), '[]')::text
     FROM access_consent WHERE patient_id = ANY(ARRAY[:pid])) AS consent,
  (SELECT coalesce(json_agg(team), '[]')::text FROM teams) AS my_teams,
  (SELECT last_event_at FROM access_projection_state WHERE id = 1) AS last_event;
INSERT INTO audit_log (id, occurred_at, service, tenant, user_id, role_code, organisation,
                       patient_id, action, outcome, reason, status, trace_id, result_count)
VALUES (gen_random_uuid(), now(), 'mpi', 'RXR', 'bench-user', 'R8000', 'RXR', :pid,
        'patient.read', 'permitted', 'relationship', 200, '4bf92f3577b34da6a3ce929d0e0e4736', 1);
INSERT INTO outbox (event_id, topic, msg_key, ce_type, ce_source, ce_time, payload)
VALUES (gen_random_uuid(), 'tessera.rxr.audit.events', :pid, 'uk.nhs.tessera.audit.v1',
        '/tessera/mpi', now(), '\x0a2462656e6368'::bytea);
COMMIT;
