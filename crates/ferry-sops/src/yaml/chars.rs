//! Character classes of the YAML 1.1 grammar, as go-yaml v3 applies them.
//!
//! The scanner works on a `Vec<char>` padded with NUL sentinels, so every
//! helper takes the buffer and an index and treats positions past the end as
//! NUL (the end of the stream).

pub(super) fn at(buf: &[char], i: usize) -> char {
    buf.get(i).copied().unwrap_or('\0')
}

pub(super) fn is_alpha(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

pub(super) fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Line breaks: CR, LF, NEL, LS and PS.
pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

pub(super) fn is_breakz(c: char) -> bool {
    is_break(c) || c == '\0'
}

pub(super) fn is_blankz(c: char) -> bool {
    is_blank(c) || is_breakz(c)
}

pub(super) fn is_hex(c: char) -> bool {
    c.is_ascii_hexdigit()
}

/// The characters the emitter may write unescaped (YAML's `c-printable`,
/// minus TAB and the characters outside the Basic Multilingual Plane, which
/// go-yaml's byte-level test does not accept either).
pub(super) fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}
