//! Acknowledgements: original mode, MSA-1 AA / AE / AR, and an ERR segment for AE and AR.
use crate::message::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// Application accept: applied.
    Accept,
    /// Application error: understood but not applied (e.g. unknown patient); fixing the data
    /// and resending may work.
    Error,
    /// Application reject: malformed, unsupported or not for us; resending it unchanged never
    /// will.
    Reject,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "AA",
            Self::Error => "AE",
            Self::Reject => "AR",
        }
    }
}

/// HL7 table 0357 (message error condition codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    SegmentSequence,
    RequiredFieldMissing,
    DataTypeError,
    TableValueNotFound,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedVersion,
    UnknownKeyIdentifier,
    DuplicateKeyIdentifier,
    ApplicationRecordLocked,
    ApplicationInternalError,
}

impl ErrorCode {
    pub fn code(self) -> &'static str {
        match self {
            Self::SegmentSequence => "100",
            Self::RequiredFieldMissing => "101",
            Self::DataTypeError => "102",
            Self::TableValueNotFound => "103",
            Self::UnsupportedMessageType => "200",
            Self::UnsupportedEventCode => "201",
            Self::UnsupportedVersion => "203",
            Self::UnknownKeyIdentifier => "204",
            Self::DuplicateKeyIdentifier => "205",
            Self::ApplicationRecordLocked => "206",
            Self::ApplicationInternalError => "207",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Self::SegmentSequence => "Segment sequence error",
            Self::RequiredFieldMissing => "Required field missing",
            Self::DataTypeError => "Data type error",
            Self::TableValueNotFound => "Table value not found",
            Self::UnsupportedMessageType => "Unsupported message type",
            Self::UnsupportedEventCode => "Unsupported event code",
            Self::UnsupportedVersion => "Unsupported version id",
            Self::UnknownKeyIdentifier => "Unknown key identifier",
            Self::DuplicateKeyIdentifier => "Duplicate key identifier",
            Self::ApplicationRecordLocked => "Application record locked",
            Self::ApplicationInternalError => "Application internal error",
        }
    }
}

/// An acknowledgement to build.
#[derive(Debug, Clone)]
pub struct Ack {
    pub code: AckCode,
    pub error: Option<(ErrorCode, String)>,
    /// Where the error is, e.g. `PID^1^3` (segment, sequence, field).
    pub location: Option<String>,
}

impl Ack {
    pub fn accept() -> Self {
        Self {
            code: AckCode::Accept,
            error: None,
            location: None,
        }
    }

    pub fn error(code: ErrorCode, text: impl Into<String>) -> Self {
        Self {
            code: AckCode::Error,
            error: Some((code, text.into())),
            location: None,
        }
    }

    pub fn reject(code: ErrorCode, text: impl Into<String>) -> Self {
        Self {
            code: AckCode::Reject,
            error: Some((code, text.into())),
            location: None,
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// The ACK for `original` (or for an unparseable message, with default delimiters and
    /// no control id), from `application`/`facility`, as ER7 with CR segment ends.
    pub fn render(
        &self,
        original: Option<&Message>,
        application: &str,
        facility: &str,
        control_id: &str,
        timestamp: &str,
    ) -> String {
        let d = original.map(|m| m.delimiters).unwrap_or_default();
        let f = d.field;
        let c = d.component;
        let e = |s: &str| d.escape(s);
        let get = |seg: &str, n: usize| original.map(|m| m.value(seg, n, 0, 1)).unwrap_or_default();
        let trigger = original.map(|m| m.message_type().1).unwrap_or_default();
        let version = Some(get("MSH", 12))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "2.4".into());
        let mut out = String::new();
        out.push_str("MSH");
        out.push(f);
        out.push_str(&d.encoding_characters());
        for v in [
            e(application),
            e(facility),
            e(&get("MSH", 3)),
            e(&get("MSH", 4)),
            e(timestamp),
            String::new(),
            format!("ACK{c}{}{c}ACK", e(&trigger)),
            e(control_id),
            Some(get("MSH", 11))
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "P".into()),
            e(&version),
        ] {
            out.push(f);
            out.push_str(&v);
        }
        out.push('\r');
        out.push_str("MSA");
        out.push(f);
        out.push_str(self.code.as_str());
        out.push(f);
        out.push_str(&e(&original.map(|m| m.control_id()).unwrap_or_default()));
        if let Some((_, text)) = &self.error {
            out.push(f);
            out.push_str(&e(text));
        }
        out.push('\r');
        if let Some((code, text)) = &self.error {
            // ERR-1 (2.3/2.4 location^^^code&text) and ERR-2..ERR-4 and ERR-8 (2.5).
            let location = self.location.clone().unwrap_or_default();
            let sub = d.subcomponent.unwrap_or(c);
            let loc_escaped: String = location
                .split('^')
                .map(&e)
                .collect::<Vec<_>>()
                .join(&c.to_string());
            out.push_str("ERR");
            out.push(f);
            out.push_str(&loc_escaped);
            out.push(c);
            out.push_str(code.code());
            out.push(sub);
            out.push_str(&e(code.text()));
            out.push(f);
            out.push_str(&loc_escaped);
            out.push(f);
            out.push_str(code.code());
            out.push(c);
            out.push_str(&e(code.text()));
            out.push(c);
            out.push_str("HL70357");
            out.push(f);
            out.push('E');
            out.push(f);
            out.push(f);
            out.push(f);
            out.push(f);
            out.push_str(&e(text));
            out.push('\r');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_ack_names_the_original_and_parses_back() {
        let m = Message::parse(
            "MSH|^~\\&|PAS|RXX|TESSERA|RXX|20250101||ADT^A04^ADT_A01|C42|P|2.4\rPID|1",
        )
        .unwrap();
        let ack = Ack::error(ErrorCode::DataTypeError, "PID-3: bad NHS number | check")
            .at("PID^1^3")
            .render(Some(&m), "TESSERA", "RXX", "A1", "20250101120000");
        let back = Message::parse(&ack).unwrap();
        assert_eq!(back.message_type(), ("ACK".into(), "A04".into()));
        assert_eq!(back.value("MSH", 5, 0, 1), "PAS");
        assert_eq!(back.value("MSH", 6, 0, 1), "RXX");
        assert_eq!(back.value("MSA", 1, 0, 1), "AE");
        assert_eq!(back.value("MSA", 2, 0, 1), "C42");
        assert_eq!(back.value("MSA", 3, 0, 1), "PID-3: bad NHS number | check");
        assert_eq!(back.value("ERR", 3, 0, 1), "102");
        assert_eq!(back.value("ERR", 2, 0, 1), "PID");
        assert_eq!(back.value("ERR", 4, 0, 1), "E");
        assert_eq!(back.value("ERR", 8, 0, 1), "PID-3: bad NHS number | check");
    }

    #[test]
    fn an_accept_has_no_err_and_unparseable_input_still_gets_an_ack() {
        let ack = Ack::accept().render(None, "TESSERA", "RXX", "A2", "20250101");
        let back = Message::parse(&ack).unwrap();
        assert_eq!(back.value("MSA", 1, 0, 1), "AA");
        assert!(back.segment("ERR").is_none());
        let ack = Ack::reject(ErrorCode::SegmentSequence, "no MSH")
            .render(None, "TESSERA", "", "A3", "x");
        assert_eq!(Message::parse(&ack).unwrap().value("MSA", 1, 0, 1), "AR");
    }
}
