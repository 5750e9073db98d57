//! The delimiters a message declares in MSH-1 and MSH-2, and escaping text under them.

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
