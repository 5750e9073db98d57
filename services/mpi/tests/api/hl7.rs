//! HL7 v2 ADT over a real MLLP socket (and once over HTTP): every event type, every ACK code,
//! resends, the wrong trust, truncated and garbled input.
use crate::helpers::*;
use serde_json::Value;
use std::time::Duration;
use tessera_hl7::mllp::{frame, Decoder, Frame};
use tessera_hl7::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Mllp {
    stream: TcpStream,
    decoder: Decoder,
}

impl Mllp {
    async fn connect(port: u16) -> Self {
        Self {
            stream: TcpStream::connect(("127.0.0.1", port)).await.unwrap(),
            decoder: Decoder::new(1 << 20),
        }
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next ACK on the connection.
    async fn ack(&mut self) -> Message {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(Frame::Message(m)) = self.decoder.next_frame() {
                return Message::parse_bytes(&m).unwrap();
            }
            let n = tokio::time::timeout(Duration::from_secs(20), self.stream.read(&mut buf))
                .await
                .expect("an ACK in time")
                .unwrap();
            assert!(n > 0, "the listener closed the connection");
            self.decoder.push(&buf[..n]);
        }
    }

    async fn send(&mut self, msg: &str) -> Message {
        self.write(&frame(msg.as_bytes())).await;
        self.ack().await
    }
}

fn msa(ack: &Message) -> (String, String) {
    (ack.value("MSA", 1, 0, 1), ack.value("MSA", 2, 0, 1))
}

fn msh(facility: &str, event: &str, control: &str) -> String {
    let structure = match event {
        "A28" | "A31" => "ADT_A05",
        "A40" => "ADT_A39",
        "A03" => "ADT_A03",
        _ => "ADT_A01",
    };
    format!("MSH|^~\\&|PAS|{facility}|TESSERA|{facility}|20250314093012||ADT^{event}^{structure}|{control}|P|2.4|||AL|NE\rEVN|{event}|20250314093012\r")
}

fn pid(ods: &str, nhs: &str, mrn: &str, family: &str, phone: &str) -> String {
    let ids = match (nhs.is_empty(), mrn.is_empty()) {
        (false, false) => format!("{nhs}^^^NHS^NH~{mrn}^^^{ods}^MR"),
        (false, true) => format!("{nhs}^^^NHS^NH"),
        _ => format!("{mrn}^^^{ods}^MR"),
    };
    // Verified when there is a number; "trace required" when there is none.
    let status = if nhs.is_empty() { "NSTS03" } else { "NSTS01" };
    format!("PID|1||{ids}||{family}^JANE^^^MRS^^L||19700101|F|||1 HIGH STREET^^LEEDS^WEST YORKSHIRE^LS1 4AP^GBR^H||{phone}^PRN^PH|||||||||||||||||||{status}\rPD1|||THE SURGERY^^A99999\r")
}

fn adt(
    ods: &str,
    event: &str,
    control: &str,
    nhs: &str,
    mrn: &str,
    family: &str,
    phone: &str,
) -> String {
    format!(
        "{}{}",
        msh(ods, event, control),
        pid(ods, nhs, mrn, family, phone)
    )
}

async fn find(app: &TestApp, query: &str) -> Value {
    let r = app
        .get(&format!("/patients?{query}"), &app.clerk(0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn each_adt_event_is_applied_and_acknowledged_aa() {
    let app = TestApp::spawn_with(1, with_mllp).await;
    let ods = app.tenant(0).to_string();
    let mut c = Mllp::connect(app.mllp_port(0)).await;

    // A04 registers.
    let ack = c
        .send(&adt(
            &ods,
            "A04",
            "M1",
            "9434765919",
            "K100",
            "TESTPATIENT",
            "01132345678",
        ))
        .await;
    assert_eq!(msa(&ack), ("AA".into(), "M1".into()));
    assert_eq!(ack.message_type(), ("ACK".into(), "A04".into()));
    assert_eq!(
        ack.value("MSH", 5, 0, 1),
        "PAS",
        "the ACK goes back to the sender"
    );
    let v = find(&app, "nhs_number=9434765919").await;
    let p = &v["patients"][0];
    assert_eq!(p["names"][0]["family"], "TESTPATIENT");
    assert_eq!(p["names"][0]["given"][0], "JANE");
    assert_eq!(p["birth_date"], "1970-01-01");
    assert_eq!(p["administrative_sex"], "female");
    assert_eq!(p["nhs_number_verification_status"], "01");
    assert_eq!(p["addresses"][0]["postcode"], "LS1 4AP");
    assert_eq!(p["general_practice"], "A99999");
    assert!(p["local_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["value"] == "K100"));
    let id = p["id"].as_str().unwrap().to_string();

    // A08 updates (a new phone number), found by the NHS number.
    let ack = c
        .send(&adt(
            &ods,
            "A08",
            "M2",
            "9434765919",
            "",
            "TESTPATIENT",
            "07700900123",
        ))
        .await;
    assert_eq!(msa(&ack).0, "AA");
    let v = find(&app, "nhs_number=9434765919").await;
    assert_eq!(v["patients"][0]["id"], id.as_str());
    assert_eq!(v["patients"][0]["telecom"][0]["value"], "07700900123");
    assert_eq!(v["patients"][0]["version"], 2);

    // A28 adds a person known only by a local number; A31 updates them by it.
    let ack = c
        .send(&adt(&ods, "A28", "M3", "", "K200", "SECONDPERSON", "0111"))
        .await;
    assert_eq!(msa(&ack).0, "AA");
    let ack = c
        .send(&adt(
            &ods,
            "A31",
            "M4",
            "",
            "K200",
            "SECONDPERSON-SMITH",
            "0111",
        ))
        .await;
    assert_eq!(msa(&ack).0, "AA");
    let v = find(&app, "local_number=K200").await;
    assert_eq!(v["patients"][0]["names"][0]["family"], "SECONDPERSON-SMITH");
    let second = v["patients"][0]["id"].as_str().unwrap().to_string();

    // The patient part of A01 and A03.
    let ack = c
        .send(&adt(
            &ods,
            "A01",
            "M5",
            "9434765919",
            "",
            "TESTPATIENT",
            "07700900124",
        ))
        .await;
    assert_eq!(msa(&ack).0, "AA");
    let ack = c
        .send(&adt(
            &ods,
            "A03",
            "M6",
            "9434765919",
            "",
            "TESTPATIENT",
            "07700900125",
        ))
        .await;
    assert_eq!(msa(&ack).0, "AA");
    let v = find(&app, "nhs_number=9434765919").await;
    assert_eq!(v["patients"][0]["telecom"][0]["value"], "07700900125");

    // A40: K200 (prior, MRG-1) merged into the NHS-numbered patient.
    let a40 = format!(
        "{}PID|1||9434765919^^^NHS^NH\rMRG|K200^^^{ods}^MR\r",
        msh(&ods, "A40", "M7")
    );
    let ack = c.send(&a40).await;
    assert_eq!(
        msa(&ack),
        ("AA".into(), "M7".into()),
        "{ack:?} {}",
        ack.value("MSA", 3, 0, 1)
    );
    let r = app
        .get(&format!("/patients/{second}"), &app.clerk(0))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["id"],
        id.as_str(),
        "the merged-away id answers with the survivor"
    );
    let v = find(&app, "local_number=K200").await;
    assert_eq!(v["patients"][0]["id"], id.as_str());
    // The same merge sent again under a new control id: already done, AA, nothing new.
    let a40 = a40.replace("|M7|", "|M8|");
    assert_eq!(msa(&c.send(&a40).await).0, "AA");
    assert_eq!(app.patient_count(0).await, 2);

    // The HTTP endpoint answers the same way, in the token's trust.
    let r = app
        .client
        .post(format!("{}/hl7/v2", app.base))
        .bearer_auth(app.clerk(0))
        .header("content-type", "x-application/hl7-v2+er7")
        .body(adt(
            &ods,
            "A31",
            "H1",
            "9434765919",
            "",
            "TESTPATIENT",
            "07700900126",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ack = Message::parse(&r.text().await.unwrap()).unwrap();
    assert_eq!(msa(&ack), ("AA".into(), "H1".into()));
    app.stop().await;
}

#[tokio::test]
async fn errors_are_ae_with_err_and_rejections_ar_and_neither_changes_anything() {
    let app = TestApp::spawn_with(2, with_mllp).await;
    let ods = app.tenant(0).to_string();
    let mut c = Mllp::connect(app.mllp_port(0)).await;
    let ack = c
        .send(&adt(
            &ods,
            "A04",
            "E1",
            "9434765919",
            "K1",
            "TESTPATIENT",
            "0113",
        ))
        .await;
    assert_eq!(msa(&ack).0, "AA");
    let before = find(&app, "nhs_number=9434765919").await;
    let audits = app.audit_count(0).await;

    // AE: a bad check digit in PID-3; ERR says where and why.
    let ack = c
        .send(&adt(
            &ods,
            "A08",
            "E2",
            "9434765918",
            "K1",
            "CHANGED",
            "0113",
        ))
        .await;
    assert_eq!(msa(&ack), ("AE".into(), "E2".into()));
    assert_eq!(ack.value("ERR", 3, 0, 1), "102");
    assert_eq!(ack.value("ERR", 2, 0, 1), "PID");
    assert_eq!(ack.value("ERR", 2, 0, 3), "3");
    assert!(ack.value("ERR", 8, 0, 1).contains("nhs_number"));
    // AE: a merge whose prior patient is unknown.
    let a40 = format!(
        "{}PID|1||9434765919^^^NHS^NH\rMRG|NOBODY^^^{ods}^MR\r",
        msh(&ods, "A40", "E3")
    );
    let ack = c.send(&a40).await;
    assert_eq!(msa(&ack).0, "AE");
    assert_eq!(ack.value("ERR", 3, 0, 1), "204");
    // AE: a new patient with no date of birth.
    let no_dob = adt(&ods, "A28", "E4", "", "K9", "NODOB", "0113").replace("|19700101|", "||");
    let ack = c.send(&no_dob).await;
    assert_eq!(msa(&ack).0, "AE");
    assert_eq!(ack.value("ERR", 2, 0, 3), "7");

    // AR: not ours, not supported, or not HL7 we can read.
    let rejections: Vec<(&str, String, &str)> = vec![
        (
            "wrong trust in MSH-4",
            adt(app.tenant(1), "A08", "R1", "9434765919", "", "X", "1"),
            "103",
        ),
        (
            "unsupported event",
            adt(&ods, "A17", "R2", "9434765919", "", "X", "1"),
            "201",
        ),
        (
            "unsupported type",
            adt(&ods, "A08", "R3", "9434765919", "", "X", "1").replace("ADT^A08", "ORU^R01"),
            "200",
        ),
        (
            "unsupported version",
            adt(&ods, "A08", "R4", "9434765919", "", "X", "1").replace("|2.4|", "|2.7|"),
            "203",
        ),
        (
            "no control id",
            adt(&ods, "A08", "", "9434765919", "", "X", "1"),
            "101",
        ),
        ("no PID", msh(&ods, "A08", "R6"), "100"),
        (
            "two merges in one A40",
            format!(
                "{}PID|1||9434765919^^^NHS^NH\rMRG|K1\rMRG|K2\r",
                msh(&ods, "A40", "R7")
            ),
            "100",
        ),
        (
            "truncated",
            adt(&ods, "A08", "R8", "9434765919", "", "X", "1")[..40].to_string(),
            "101",
        ),
        ("garbled", "\u{1}\u{7f}zz\u{0}PID|||||".to_string(), "100"),
    ];
    for (case, msg, code) in &rejections {
        let ack = c.send(msg).await;
        assert_eq!(ack.value("MSA", 1, 0, 1), "AR", "{case}");
        assert_eq!(ack.value("ERR", 3, 0, 1), *code, "{case}");
    }
    // Random bytes inside a frame, and a frame cut off by the next: the connection carries on.
    c.write(&frame(&[0xff, 0xfe, 0x00, 0x0d, 0x1c])).await;
    assert_eq!(c.ack().await.value("MSA", 1, 0, 1), "AR");
    c.write(b"\x0bMSH|^~\\&|PAS|cut off").await;
    let ack = c
        .send(&adt(
            &ods,
            "A08",
            "E9",
            "9434765919",
            "",
            "TESTPATIENT",
            "0113",
        ))
        .await;
    assert_eq!(msa(&ack), ("AA".into(), "E9".into()));

    // Nothing changed, and each message left one audit record.
    let after = find(&app, "nhs_number=9434765919").await;
    assert_eq!(
        after["patients"][0]["version"],
        before["patients"][0]["version"]
    );
    assert_eq!(
        after["patients"][0]["names"],
        before["patients"][0]["names"]
    );
    assert_eq!(app.patient_count(0).await, 1);
    assert_eq!(app.patient_count(1).await, 0);
    let expected = 3 + rejections.len() as i64 + 1 + 1 + 1; // AEs, ARs, framed junk, E9, a find
    assert_eq!(app.audit_count(0).await - audits, expected);
    app.stop().await;
}

#[tokio::test]
async fn a_resent_control_id_gets_the_same_ack_and_is_not_applied_twice() {
    let app = TestApp::spawn_with(1, with_mllp).await;
    let ods = app.tenant(0).to_string();
    let mut c = Mllp::connect(app.mllp_port(0)).await;
    let first = adt(&ods, "A28", "D1", "", "K300", "ONCE", "0113");
    let ack1 = c.send(&first).await;
    assert_eq!(msa(&ack1).0, "AA");
    // Resent on a new connection (the sender timed out and reconnected), even with changes.
    let mut c2 = Mllp::connect(app.mllp_port(0)).await;
    let ack2 = c2.send(&first).await;
    let changed = first.replace("ONCE", "TWICE");
    let ack3 = c2.send(&changed).await;
    assert_eq!(
        ack2.value("MSH", 10, 0, 1),
        ack1.value("MSH", 10, 0, 1),
        "the very same ACK"
    );
    assert_eq!(ack3.value("MSH", 10, 0, 1), ack1.value("MSH", 10, 0, 1));
    let v = find(&app, "local_number=K300").await;
    assert_eq!(v["patients"][0]["names"][0]["family"], "ONCE");
    assert_eq!(v["patients"][0]["version"], 1);
    assert_eq!(app.patient_count(0).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn delimiters_and_escapes_follow_msh_and_frames_may_arrive_in_pieces() {
    let app = TestApp::spawn_with(1, with_mllp).await;
    let ods = app.tenant(0).to_string();
    let mut c = Mllp::connect(app.mllp_port(0)).await;
    // `#` fields, `$` components, `*` repetitions, `!` escape, `@` subcomponents; the family
    // name carries an escaped `@` and `#`.
    let msg = format!(
        "MSH#$*!@#PAS#{ods}#TESSERA#{ods}#20250314##ADT$A28$ADT_A05#X1#P#2.5\rPID#1##K400$$${ods}$MR##O!T!BRIEN!F!JONES$ANN##19800202#F\r"
    );
    let wire = frame(msg.as_bytes());
    // Junk first, then the frame in three pieces.
    c.write(b"noise").await;
    for part in wire.chunks(wire.len() / 3 + 1) {
        c.write(part).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ack = c.ack().await;
    assert_eq!(
        ack.delimiters.field, '#',
        "the ACK uses the sender's delimiters"
    );
    assert_eq!(msa(&ack), ("AA".into(), "X1".into()));
    let v = find(&app, "local_number=K400").await;
    assert_eq!(v["patients"][0]["names"][0]["family"], "O@BRIEN#JONES");
    assert_eq!(v["patients"][0]["names"][0]["given"][0], "ANN");
    app.stop().await;
}

#[tokio::test]
async fn stored_acks_are_purged_after_their_retention_period() {
    let app = TestApp::spawn_with(1, |c| {
        with_mllp(c);
        c.hl7.ack_retention_days = 30;
        c.hl7.ack_purge_interval_seconds = 1;
    })
    .await;
    let ods = app.tenant(0).to_string();
    let mut c = Mllp::connect(app.mllp_port(0)).await;
    assert_eq!(
        msa(&c
            .send(&adt(&ods, "A28", "KEEP", "", "K500", "RECENT", "0113"))
            .await)
        .0,
        "AA"
    );
    let schema = app.schema(0);
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO {schema}.hl7_message (sender, control_id, ack, received_at)
             VALUES ('{ods}|PAS', 'OLD', 'MSH|old', now() - interval '31 days')"
        ))
        .await
        .unwrap();
    let count = |id: &'static str| {
        let q = format!("SELECT count(*) AS n FROM {schema}.hl7_message WHERE control_id = '{id}'");
        let app = &app;
        async move { app.scalar(&q).await }
    };
    let gone = tessera_testkit::wait_until(Duration::from_secs(10), || async {
        count("OLD").await == 0
    })
    .await;
    assert!(gone, "the 31-day-old ACK was not purged");
    assert_eq!(count("KEEP").await, 1, "a recent ACK is kept");
    app.stop().await;
}

#[tokio::test]
async fn encounter_events_apply_the_person_and_forward_the_visit_without_demographics() {
    let app = TestApp::spawn_with(1, with_mllp).await;
    let ods = app.tenant(0).to_string();
    let mut c = Mllp::connect(app.mllp_port(0)).await;
    let pv1 = "PV1|1|I|WARD7^^BED12|21|||C1234567^CONSULTANT|||300||||19|||||V100^^^RXR^VN\r";
    let admit = format!(
        "{}{pv1}",
        adt(&ods, "A01", "V1", "9434765919", "K9", "INPATIENT", "0113")
    );
    assert_eq!(msa(&c.send(&admit).await), ("AA".into(), "V1".into()));
    let transfer = format!(
        "{}{}",
        adt(&ods, "A02", "V2", "9434765919", "K9", "INPATIENT", "0113"),
        pv1.replace("WARD7^^BED12", "WARD8^^BED1")
    );
    assert_eq!(msa(&c.send(&transfer).await), ("AA".into(), "V2".into()));
    // Resent: the same ACK, not forwarded twice.
    assert_eq!(msa(&c.send(&transfer).await), ("AA".into(), "V2".into()));
    // A visit event without its visit is rejected; an A01 without one stays a person event.
    let bare = adt(&ods, "A12", "V3", "9434765919", "K9", "INPATIENT", "0113");
    let ack = c.send(&bare).await;
    assert_eq!(
        (msa(&ack).0.as_str(), ack.value("ERR", 2, 0, 1).as_str()),
        ("AR", "PV1")
    );
    let person = adt(&ods, "A01", "V4", "9434765919", "K9", "INPATIENT", "0113");
    assert_eq!(msa(&c.send(&person).await).0, "AA");

    let patient = find(&app, "nhs_number=9434765919").await["patients"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let topic = format!("tessera.{}.mpi.adt", ods.to_lowercase());
    let events = tessera_testkit::read_events(&app.kafka, &topic, 2, Duration::from_secs(60)).await;
    assert_eq!(events.len(), 2, "the two visit messages");
    // Waits for a third that must not come: the resend is not forwarded again. (Reading a
    // topic afresh takes seconds under load; a short wait would see nothing at all.)
    let events = tessera_testkit::read_events(&app.kafka, &topic, 3, Duration::from_secs(20)).await;
    assert_eq!(events.len(), 2, "the two visit messages, once each");
    use prost::Message as _;
    let forwarded: Vec<_> = events
        .iter()
        .map(|e| tessera_proto::mpi::v1::AdtForwarded::decode(e.payload.as_slice()).unwrap())
        .collect();
    assert_eq!(
        forwarded
            .iter()
            .map(|f| (f.trigger.as_str(), f.control_id.as_str()))
            .collect::<Vec<_>>(),
        [("A01", "V1"), ("A02", "V2")]
    );
    for (e, f) in events.iter().zip(&forwarded) {
        assert_eq!(
            (e.key.as_deref(), f.patient_id.as_str()),
            (Some(patient.as_str()), patient.as_str())
        );
        assert!(
            !f.er7.contains("INPATIENT")
                && !f.er7.contains("HIGH STREET")
                && !f.er7.contains("PID|")
        );
        let m = Message::parse(&f.er7).unwrap();
        assert_eq!(m.value("PV1", 19, 0, 1), "V100");
    }
    assert_eq!(
        Message::parse(&forwarded[1].er7)
            .unwrap()
            .value("PV1", 3, 0, 1),
        "WARD8"
    );
    app.stop().await;
}
