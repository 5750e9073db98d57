use std::fmt;

/// The five delimiters a message declares: MSH-1 and the four characters of MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: Option<char>,
    pub subcomponent: Option<char>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self {
            field: '|',
            component: '^',
            repetition: '~',
            escape: Some('\\'),
            subcomponent: Some('&'),
        }
    }
}

impl Delimiters {
    /// `^~\&`: MSH-2 as written.
    pub fn encoding_characters(&self) -> String {
        let mut s = String::new();
        s.push(self.component);
        s.push(self.repetition);
        s.extend(self.escape);
        s.extend(self.subcomponent);
        s
    }

    /// Escapes `text` so that it reads back as itself in a message with these delimiters.
    pub fn escape(&self, text: &str) -> String {
        let Some(esc) = self.escape else {
            // No escape character declared: delimiters cannot be written; drop them.
            return text
                .chars()
                .filter(|c| !self.is_delimiter(*c) && *c != '\r' && *c != '\n')
                .collect();
        };
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            let code = if c == self.field {
                Some('F')
            } else if c == self.component {
                Some('S')
            } else if c == self.repetition {
                Some('R')
            } else if c == esc {
                Some('E')
            } else if Some(c) == self.subcomponent {
                Some('T')
            } else {
                None
            };
            match code {
                Some(code) => {
                    out.push(esc);
                    out.push(code);
                    out.push(esc);
                }
                None if c == '\r' || c == '\n' => {
                    out.push(esc);
                    out.push_str(".br");
                    out.push(esc);
                }
                None => out.push(c),
            }
        }
        out
    }

    fn is_delimiter(&self, c: char) -> bool {
        c == self.field
            || c == self.component
            || c == self.repetition
            || Some(c) == self.escape
            || Some(c) == self.subcomponent
    }

    /// Reads escape sequences back: `\F\ \S\ \T\ \R\ \E\`, `\.br\` as a line break, `\Xhh..\`
    /// as bytes (UTF-8 or Latin-1); formatting and character-set sequences are dropped.
    pub fn unescape(&self, raw: &str) -> String {
        let Some(esc) = self.escape else {
            return raw.to_string();
        };
        if !raw.contains(esc) {
            return raw.to_string();
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(start) = rest.find(esc) {
            out.push_str(&rest[..start]);
            let after = &rest[start + esc.len_utf8()..];
            let Some(end) = after.find(esc) else {
                // An escape character with no closing one: keep it as text.
                out.push_str(&rest[start..]);
                return out;
            };
            let seq = &after[..end];
            match seq {
                "F" => out.push(self.field),
                "S" => out.push(self.component),
                "R" => out.push(self.repetition),
                "E" => out.push(esc),
                "T" => out.extend(self.subcomponent),
                ".br" => out.push('\n'),
                s if s.starts_with('X') => out.push_str(&hex_text(&s[1..])),
                // \H\ \N\ (highlighting), \Cxxyy\ \Mxxyyzz\ (character sets), \Zxx\ (local):
                // no text of their own.
                _ => {}
            }
            rest = &after[end + esc.len_utf8()..];
        }
        out.push_str(rest);
        out
    }
}

fn hex_text(hex: &str) -> String {
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks(2)
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect();
    match String::from_utf8(bytes) {
        Ok(s) => s,
        // Not UTF-8: read as Latin-1, the usual NHS PAS character set.
        Err(e) => e.into_bytes().iter().map(|b| char::from(*b)).collect(),
    }
}

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
