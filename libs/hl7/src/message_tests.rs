//! Tests of `message.rs`.
use super::*;

const A01: &str = "MSH|^~\\&|PAS|RXX01|ROUTE|RXX01|20250314093012||ADT^A01^ADT_A01|MSG000123|P|2.4|||AL|NE\rEVN|A01|20250314093012|||U123456^CLERK^ANNE|20250314090000\rPID|1||9990000018^^^NHS^NH~K1234567^^^RXX^MR||TESTPATIENT^JANE^^^MRS^^L||19700101|F|||1 HIGH STREET^^LEEDS^WEST YORKSHIRE^LS1 4AP^GBR^H||01132345678^PRN^PH|||||||||||||||||||NSTS01\rPD1|||THE SURGERY^^A99999|G9999998^DOCTOR^GP^^^DR\r";

#[test]
fn reads_the_nhs_rules_example_by_position() {
    let m = Message::parse(A01).unwrap();
    assert_eq!(m.message_type(), ("ADT".into(), "A01".into()));
    assert_eq!(m.control_id(), "MSG000123");
    assert_eq!(m.version(), "2.4");
    assert_eq!(m.sending_facility(), "RXX01");
    let pid = m.segment("PID").unwrap();
    let ids = pid.repetitions(&m.delimiters, 3);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0][0], "9990000018");
    assert_eq!(ids[0][3], "NHS");
    assert_eq!(ids[1][4], "MR");
    assert_eq!(m.value("PID", 5, 0, 1), "TESTPATIENT");
    assert_eq!(m.value("PID", 5, 0, 2), "JANE");
    assert_eq!(m.value("PID", 7, 0, 1), "19700101");
    assert_eq!(m.value("PID", 11, 0, 5), "LS1 4AP");
    assert_eq!(m.value("PID", 32, 0, 1), "NSTS01");
    assert_eq!(m.value("PD1", 3, 0, 3), "A99999");
    assert_eq!(m.value("MSH", 1, 0, 1), "|");
    assert_eq!(m.value("MSH", 2, 0, 1), "^~\\&");
}

#[test]
fn other_delimiters_and_escapes_follow_msh() {
    let m = Message::parse(
        "MSH#$*!@#PAS#RXX#TESSERA#RXX#20250101##ADT$A31#1#P#2.5\nPID#1##9990000018$$$NHS$NH*K1$$$RXX$MR##O!T!BRIEN$ANN\n",
    )
    .unwrap();
    assert_eq!(m.delimiters.field, '#');
    assert_eq!(m.delimiters.component, '$');
    assert_eq!(m.message_type(), ("ADT".into(), "A31".into()));
    assert_eq!(m.value("PID", 3, 1, 1), "K1");
    // \T\ in this message is `!T!`, the subcomponent separator `@`.
    assert_eq!(m.value("PID", 5, 0, 1), "O@BRIEN");
    let d = Delimiters::default();
    assert_eq!(
        d.unescape(r"A\F\B\S\C\T\D\R\E\E\\.br\F\X41C3A9\"),
        "A|B^C&D~E\\\nFAé"
    );
    assert_eq!(d.unescape(r"trailing\S"), r"trailing\S");
}

#[test]
fn escape_then_unescape_is_the_identity() {
    let d = Delimiters::default();
    for s in ["plain", "a|b^c~d\\e&f", "line\nbreak", ""] {
        assert_eq!(d.unescape(&d.escape(s)), s);
    }
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    assert!(matches!(Message::parse(""), Err(ParseError::Empty)));
    assert!(matches!(Message::parse("PID|1"), Err(ParseError::NoMsh)));
    assert!(matches!(
        Message::parse("MSH"),
        Err(ParseError::BadDelimiters)
    ));
    assert!(matches!(
        Message::parse("MSH|^"),
        Err(ParseError::BadDelimiters)
    ));
    assert!(matches!(
        Message::parse("MSH|^^\\&|"),
        Err(ParseError::BadDelimiters)
    ));
    assert!(matches!(
        Message::parse("MSH|^~\\&|A\rpid|1"),
        Err(ParseError::BadSegmentName(2))
    ));
    // A second MSH with nothing after its name.
    assert!(Message::parse("MSH|^~\\&\rMSH").is_ok());
    let m = Message::parse("MSH|^~\\&").unwrap();
    assert_eq!(m.control_id(), "");
    assert_eq!(m.value("PID", 99, 3, 7), "");
}

proptest::proptest! {
    #[test]
    fn never_panics(s in "\\PC*") {
        if let Ok(m) = Message::parse(&s) {
            let _ = m.message_type();
            let _ = m.value("PID", 3, 1, 4);
        }
    }

    #[test]
    fn any_text_survives_escaping(s in "\\PC*") {
        let d = Delimiters::default();
        proptest::prop_assert_eq!(d.unescape(&d.escape(&s)), s);
    }
}

#[test]
fn render_only_keeps_the_named_segments_raw_and_nothing_else() {
    let m = Message::parse(
        "MSH|^~\\&|PAS|RXR01|ROUTE|RXR01|20250314093012||ADT^A02^ADT_A02|MSG7|P|2.4\r\
         EVN|A02|20250314093012\r\
         PID|1||9990000018^^^NHS^NH||TESTPATIENT^JANE||19700101|F|||1 HIGH ST^^LEEDS\r\
         PV1|1|I|WARD7^^BED12||||C1234567^CONSULTANT\\T\\CO^ALAN|||300\r",
    )
    .unwrap();
    let kept = m.render_only(&["MSH", "EVN", "PV1"]);
    assert!(!kept.contains("TESTPATIENT") && !kept.contains("HIGH ST"));
    let again = Message::parse(&kept).unwrap();
    let names: Vec<&str> = again.segments.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["MSH", "EVN", "PV1"]);
    assert_eq!(again.message_type(), ("ADT".into(), "A02".into()));
    assert_eq!(again.control_id(), "MSG7");
    assert_eq!(again.value("PV1", 3, 0, 3), "BED12");
    assert_eq!(again.value("PV1", 7, 0, 2), "CONSULTANT&CO");
    assert_eq!(again.value("PV1", 10, 0, 1), "300");
}
