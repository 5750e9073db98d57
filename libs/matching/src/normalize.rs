use unicode_normalization::UnicodeNormalization;

/// Lower case, accents removed (é→e, ß→ss, ø→o…), anything but letters, digits and single
/// spaces dropped. Works for any alphabet's Latin transliteration; other scripts keep their
/// letters (lower-cased) so they still compare exactly.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfkd() {
        let c = match c {
            'ß' => {
                out.push_str("ss");
                continue;
            }
            'ø' | 'Ø' => 'o',
            'æ' | 'Æ' => {
                out.push_str("ae");
                continue;
            }
            'ł' | 'Ł' => 'l',
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space && !out.is_empty() {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A phonetic key (American Soundex over the folded name, all tokens joined), so that
/// "Smyth"/"Smith" and "Mohammed"/"Muhammad" agree.
pub fn phonetic(folded: &str) -> String {
    let mut key = String::new();
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        let mut chars = word.chars().filter(char::is_ascii_alphabetic);
        let Some(first) = chars.next() else { continue };
        key.push(first.to_ascii_uppercase());
        let mut last = code(first);
        let mut n = 1;
        for c in chars {
            let d = code(c);
            if d != 0 && d != last {
                key.push(char::from(b'0' + d));
                n += 1;
                if n == 4 {
                    break;
                }
            }
            if c != 'h' && c != 'w' {
                last = d;
            }
        }
        while n < 4 {
            key.push('0');
            n += 1;
        }
    }
    key
}

fn code(c: char) -> u8 {
    match c {
        'b' | 'f' | 'p' | 'v' => 1,
        'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => 2,
        'd' | 't' => 3,
        'l' => 4,
        'm' | 'n' => 5,
        'r' => 6,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_case_and_punctuation() {
        assert_eq!(fold("  Zoë  O'Brien-Smith "), "zoe o brien smith");
        assert_eq!(fold("Müller"), "muller");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Søren"), "soren");
        assert_eq!(fold("José María"), "jose maria");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn soundex_groups_spelling_variants() {
        assert_eq!(phonetic("robert"), "R163");
        assert_eq!(phonetic("rupert"), "R163");
        assert_eq!(phonetic("smith"), phonetic("smyth"));
        assert_eq!(phonetic("ashcraft"), "A261");
        assert_eq!(phonetic("mohammed"), phonetic("muhammad"));
    }
}
