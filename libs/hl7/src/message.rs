use std::fmt;

pub use crate::delimiters::Delimiters;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the message is empty")]
    Empty,
    #[error("the message does not start with an MSH segment")]
    NoMsh,
    #[error("MSH does not declare its delimiters")]
    BadDelimiters,
    #[error("segment {0} has a malformed name")]
    BadSegmentName(usize),
    #[error("the message is not valid UTF-8 or Latin-1 text")]
    Encoding,
}

impl ParseError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "hl7.empty",
            Self::NoMsh => "hl7.no-msh",
            Self::BadDelimiters => "hl7.delimiters",
            Self::BadSegmentName(_) => "hl7.segment-name",
            Self::Encoding => "hl7.encoding",
        }
    }
}

/// One field: repetitions of components of subcomponents, raw (still escaped).
#[derive(Clone, PartialEq, Eq)]
pub struct Field {
    raw: String,
}

/// A segment: its name and fields. Field 0 is the name; for MSH, field 1 is the field
/// separator and field 2 the encoding characters, as the standard numbers them.
#[derive(Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    fields: Vec<Field>,
}

/// A parsed message. Patient data: `Debug` shows only the segment names.
#[derive(Clone)]
pub struct Message {
    pub delimiters: Delimiters,
    pub segments: Vec<Segment>,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        write!(f, "Message({})", names.join(","))
    }
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Segment({}, {} fields)", self.name, self.fields.len())
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Field(***)")
    }
}

impl Message {
    /// Parses ER7 text. Segments end with CR (LF and CRLF are accepted too); the
    /// delimiters are whatever MSH-1 and MSH-2 declare.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let input = input.trim_start_matches(['\r', '\n', ' ', '\t', '\u{feff}']);
        if input.trim().is_empty() {
            return Err(ParseError::Empty);
        }
        if !input.starts_with("MSH") {
            return Err(ParseError::NoMsh);
        }
        let mut chars = input.chars().skip(3);
        let field = chars.next().ok_or(ParseError::BadDelimiters)?;
        if field.is_alphanumeric() || field == '\r' || field == '\n' {
            return Err(ParseError::BadDelimiters);
        }
        let declared: Vec<char> = chars
            .take_while(|c| *c != field && *c != '\r' && *c != '\n')
            .collect();
        if declared.len() < 2 || declared.len() > 5 {
            return Err(ParseError::BadDelimiters);
        }
        let component = declared[0];
        let repetition = declared[1];
        let escape = declared.get(2).copied();
        let subcomponent = declared.get(3).copied();
        let mut all = vec![field, component, repetition];
        all.extend(escape);
        all.extend(subcomponent);
        for (i, c) in all.iter().enumerate() {
            if c.is_alphanumeric() || *c == '\r' || *c == '\n' || all[..i].contains(c) {
                return Err(ParseError::BadDelimiters);
            }
        }
        let delimiters = Delimiters {
            field,
            component,
            repetition,
            escape,
            subcomponent,
        };
        let mut segments = Vec::new();
        for (i, line) in input
            .split(['\r', '\n'])
            .filter(|l| !l.trim().is_empty())
            .enumerate()
        {
            let name: String = line.chars().take_while(|c| *c != field).collect();
            if name.len() != 3
                || !name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                return Err(ParseError::BadSegmentName(i + 1));
            }
            let mut fields: Vec<Field> = Vec::new();
            if name == "MSH" {
                // MSH-1 is the separator itself; MSH-2 the encoding characters.
                let rest = line.get(3 + field.len_utf8()..).unwrap_or_default();
                let mut parts = rest.split(field);
                fields.push(Field { raw: name.clone() });
                fields.push(Field {
                    raw: field.to_string(),
                });
                for p in parts.by_ref() {
                    fields.push(Field { raw: p.to_string() });
                }
            } else {
                fields.extend(line.split(field).map(|p| Field { raw: p.to_string() }));
            }
            segments.push(Segment { name, fields });
        }
        Ok(Self {
            delimiters,
            segments,
        })
    }

    /// Parses bytes: UTF-8, else Latin-1 (every byte is a character).
    pub fn parse_bytes(input: &[u8]) -> Result<Self, ParseError> {
        match std::str::from_utf8(input) {
            Ok(s) => Self::parse(s),
            Err(_) => {
                let s: String = input.iter().map(|b| char::from(*b)).collect();
                Self::parse(&s)
            }
        }
    }

    /// ER7 of only the segments named in `keep`, in their order, CR-terminated: what another
    /// system may be given of a message without the rest (the patient's demographics, say).
    /// Fields are copied raw, still escaped under the same delimiters.
    pub fn render_only(&self, keep: &[&str]) -> String {
        let sep = self.delimiters.field.to_string();
        let mut out = String::new();
        for s in self
            .segments
            .iter()
            .filter(|s| keep.contains(&s.name.as_str()))
        {
            // MSH-1 is the separator itself: the line is `MSH` + separator + MSH-2 onwards.
            let skip = if s.name == "MSH" { 2 } else { 1 };
            out.push_str(&s.name);
            for f in s.fields.iter().skip(skip) {
                out.push_str(&sep);
                out.push_str(&f.raw);
            }
            out.push('\r');
        }
        out
    }

    pub fn segment(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }

    pub fn segments_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Segment> {
        self.segments.iter().filter(move |s| s.name == name)
    }

    /// `value("PID", 5, 0, 1)`: segment PID, field 5, first repetition, component 1 (all
    /// 1-based but the repetition), unescaped; empty when absent.
    pub fn value(
        &self,
        segment: &str,
        field: usize,
        repetition: usize,
        component: usize,
    ) -> String {
        self.segment(segment)
            .map(|s| s.component(&self.delimiters, field, repetition, component))
            .unwrap_or_default()
    }

    /// MSH-9.1, MSH-9.2: message type and trigger event, e.g. ("ADT", "A04").
    pub fn message_type(&self) -> (String, String) {
        (self.value("MSH", 9, 0, 1), self.value("MSH", 9, 0, 2))
    }

    pub fn control_id(&self) -> String {
        self.value("MSH", 10, 0, 1)
    }

    pub fn version(&self) -> String {
        self.value("MSH", 12, 0, 1)
    }

    pub fn sending_application(&self) -> String {
        self.value("MSH", 3, 0, 1)
    }

    /// MSH-4.1: the sending facility (the trust's ODS code).
    pub fn sending_facility(&self) -> String {
        self.value("MSH", 4, 0, 1)
    }
}

impl Segment {
    /// The raw (escaped) field `n`; `None` when the segment is shorter.
    pub fn field(&self, n: usize) -> Option<&Field> {
        self.fields.get(n)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.len() <= 1
    }

    /// Repetitions of field `n`, each split into unescaped components.
    pub fn repetitions(&self, d: &Delimiters, n: usize) -> Vec<Vec<String>> {
        let Some(f) = self.field(n) else {
            return Vec::new();
        };
        if self.name == "MSH" && n <= 2 {
            return vec![vec![f.raw.clone()]];
        }
        f.raw
            .split(d.repetition)
            .filter(|r| !r.is_empty())
            .map(|r| {
                r.split(d.component)
                    .map(|c| {
                        // The first subcomponent: what a component means when it has none.
                        let first = match d.subcomponent {
                            Some(s) => c.split(s).next().unwrap_or_default(),
                            None => c,
                        };
                        d.unescape(first)
                    })
                    .collect()
            })
            .collect()
    }

    /// Component `component` (1-based) of repetition `repetition` (0-based) of field `n`.
    pub fn component(
        &self,
        d: &Delimiters,
        n: usize,
        repetition: usize,
        component: usize,
    ) -> String {
        self.repetitions(d, n)
            .get(repetition)
            .and_then(|r| r.get(component.saturating_sub(1)))
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
