//! Go's `fmt` package for template values: `Sprint`, `Sprintln`, `Sprintf` with Go's verbs,
//! flags, widths, precisions and error annotations (`%!d(string=x)`, `%!v(MISSING)`), and
//! `strconv` number and string formatting.

use crate::value::{IntKind, Value};

/// `fmt.Sprint`: operands printed with `%v`, spaces between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        out.push_str(&format_v(a));
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln`: spaces between all operands and a trailing newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format_v(a));
    }
    out.push('\n');
    out
}

/// `fmt.Sprintf("%v", v)`.
pub fn format_v(v: &Value) -> String {
    let mut p = Printer::default();
    p.print_arg(v, 'v');
    p.buf
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
}

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// Parses a decimal number at `s[i..]` as Go's `parsenum` does.
fn parse_num(s: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while i < s.len() && is_digit(s[i]) {
        if n > 1_000_000 {
            return (None, s.len()); // overflow: Go reports a bad width
        }
        n = n * 10 + (s[i] - b'0') as usize;
        i += 1;
    }
    if i == start { (None, i) } else { (Some(n), i) }
}

impl Printer {
    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let s = format.as_bytes();
        let end = s.len();
        let mut arg_num = 0usize;
        let mut after_index;
        let mut reordered = false;
        let mut i = 0;
        'outer: while i < end {
            let lasti = i;
            while i < end && s[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.buf.push_str(&format[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // skip %
            self.f = Flags::default();
            // flags
            while i < end {
                match s[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    _ => {
                        // fast path for a simple verb like %d
                        if s[i].is_ascii_lowercase() && arg_num < args.len() {
                            let verb = s[i] as char;
                            if verb == 'v' {
                                self.f.sharp_v = self.f.sharp;
                                self.f.sharp = false;
                                self.f.plus_v = self.f.plus;
                                self.f.plus = false;
                            }
                            self.print_arg(&args[arg_num], verb);
                            arg_num += 1;
                            i += 1;
                            continue 'outer;
                        }
                        break;
                    }
                }
                i += 1;
            }
            // argument index
            let (na, ni, ok) = arg_number(arg_num, s, i, args.len());
            arg_num = na;
            i = ni;
            after_index = ok && ni > 0 && s.get(ni.wrapping_sub(1)) == Some(&b']');
            if after_index {
                reordered = true;
            }
            let mut good_arg_num = ok;
            // width
            if i < end && s[i] == b'*' {
                i += 1;
                let (w, ok, na) = int_from_arg(args, arg_num);
                arg_num = na;
                match w {
                    Some(w) if ok => {
                        if w < 0 {
                            self.f.minus = true;
                            self.f.wid = Some(w.unsigned_abs() as usize);
                        } else {
                            self.f.wid = Some(w as usize);
                        }
                        if w.unsigned_abs() > 1_000_000 {
                            self.buf.push_str("%!(BADWIDTH)");
                            self.f.wid = None;
                        }
                    }
                    _ => self.buf.push_str("%!(BADWIDTH)"),
                }
                after_index = false;
            } else {
                let (w, ni) = parse_num(s, i);
                if w.is_some() && after_index {
                    good_arg_num = false;
                }
                self.f.wid = w;
                i = ni;
            }
            // precision
            if i < end && s[i] == b'.' {
                i += 1;
                if after_index {
                    good_arg_num = false;
                }
                let (na, ni, ok) = arg_number(arg_num, s, i, args.len());
                arg_num = na;
                i = ni;
                if ok && ni > 0 && s[ni - 1] == b']' {
                    reordered = true;
                    after_index = true;
                } else {
                    after_index = false;
                }
                if !ok {
                    good_arg_num = false;
                }
                if i < end && s[i] == b'*' {
                    i += 1;
                    let (p, ok, na) = int_from_arg(args, arg_num);
                    arg_num = na;
                    match p {
                        Some(p) if ok && p >= 0 => self.f.prec = Some(p as usize),
                        Some(_) if ok => self.f.prec = None,
                        _ => {
                            self.buf.push_str("%!(BADPREC)");
                            self.f.prec = None;
                        }
                    }
                    after_index = false;
                } else {
                    let (p, ni) = parse_num(s, i);
                    i = ni;
                    self.f.prec = Some(p.unwrap_or(0));
                }
            }
            if !after_index {
                let (na, ni, ok) = arg_number(arg_num, s, i, args.len());
                arg_num = na;
                if ni > i && s[ni - 1] == b']' {
                    reordered = true;
                }
                i = ni;
                if !ok {
                    good_arg_num = false;
                }
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            let verb = match format[i..].chars().next() {
                Some(c) => c,
                None => break,
            };
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
                continue;
            }
            if !good_arg_num {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
                continue;
            }
            if arg_num >= args.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
                continue;
            }
            if verb == 'w' {
                // Sprintf treats %w like %v but flags it as an error.
                self.buf.push_str("%!w(");
                self.buf.push_str(&args[arg_num].type_name());
                self.buf.push('=');
                let mut q = Printer::default();
                q.print_arg(&args[arg_num], 'v');
                self.buf.push_str(&q.buf);
                self.buf.push(')');
                arg_num += 1;
                continue;
            }
            if verb == 'v' {
                self.f.sharp_v = self.f.sharp;
                self.f.sharp = false;
                self.f.plus_v = self.f.plus;
                self.f.plus = false;
            }
            self.print_arg(&args[arg_num], verb);
            arg_num += 1;
        }
        if !reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.buf.push_str("%!(EXTRA ");
            for (k, a) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                match a {
                    Value::Nil => self.buf.push_str("<nil>"),
                    _ => {
                        self.buf.push_str(&a.type_name());
                        self.buf.push('=');
                        self.print_arg(a, 'v');
                    }
                }
            }
            self.buf.push(')');
        }
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        match v {
            Value::Nil => self.buf.push_str("<nil>"),
            _ => {
                self.buf.push_str(&v.type_name());
                self.buf.push('=');
                let saved = self.f;
                self.f = Flags::default();
                self.print_value(v, 'v', 0);
                self.f = saved;
            }
        }
        self.buf.push(')');
    }

    fn print_arg(&mut self, v: &Value, verb: char) {
        if let Value::Nil = v {
            match verb {
                'T' | 'v' => self.pad_str("<nil>"),
                _ => self.bad_verb(verb, v),
            }
            return;
        }
        if verb == 'T' {
            let t = v.type_name();
            self.fmt_s(&t);
            return;
        }
        if verb == 'p' {
            self.bad_verb(verb, v);
            return;
        }
        self.print_value(v, verb, 0);
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        match v {
            Value::Nil => {
                if depth == 0 {
                    self.buf.push_str("<invalid reflect.Value>");
                } else {
                    // a nil interface inside a container prints <nil> whatever the verb
                    self.buf.push_str("<nil>");
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad_str(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, v),
            },
            Value::Int(i, k) => self.fmt_integer(*i, *k, verb, v),
            Value::Float(x) => self.fmt_float_verb(*x, verb, v),
            Value::Str(s) => self.fmt_string(s, verb, v),
            Value::BStr(b) => match verb {
                'x' => self.fmt_sx(b, "0123456789abcdefx"),
                'X' => self.fmt_sx(b, "0123456789ABCDEFX"),
                'q' => {
                    let q = quote_bytes(b);
                    self.pad_str(&q);
                }
                _ => self.fmt_string(&String::from_utf8_lossy(b), verb, v),
            },
            Value::Bytes(b) => self.fmt_bytes(b, verb, v),
            Value::List(l) => {
                self.buf.push('[');
                for (i, item) in l.items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_value(item, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                self.buf.push_str("map[");
                for (i, (k, val)) in m.entries.borrow().iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.fmt_string(k, verb, &Value::Str(k.clone()));
                    self.buf.push(':');
                    self.print_value(val, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Object(o) => {
                if let Some(s) = o.stringer() {
                    match verb {
                        'v' | 's' | 'x' | 'X' | 'q' => self.fmt_string(&s, verb, v),
                        _ => self.bad_verb(verb, v),
                    }
                    return;
                }
                let body = o.format_fields();
                if o.kind_name() == "ptr" {
                    if depth == 0 {
                        self.buf.push('&');
                        self.buf.push_str(&body);
                    } else {
                        self.buf.push_str("0xc000010000");
                    }
                } else {
                    self.buf.push_str(&body);
                }
            }
        }
    }

    fn pad_str(&mut self, s: &str) {
        let w = self.f.wid.unwrap_or(0);
        let n = s.chars().count();
        if n >= w {
            self.buf.push_str(s);
            return;
        }
        let pad = w - n;
        if self.f.minus {
            self.buf.push_str(s);
            self.buf.extend(std::iter::repeat_n(' ', pad));
        } else {
            let c = if self.f.zero { '0' } else { ' ' };
            self.buf.extend(std::iter::repeat_n(c, pad));
            self.buf.push_str(s);
        }
    }

    fn pad_spaces_only(&mut self, s: &str) {
        let z = self.f.zero;
        self.f.zero = false;
        self.pad_str(s);
        self.f.zero = z;
    }

    fn truncate<'a>(&self, s: &'a str) -> &'a str {
        if let Some(p) = self.f.prec
            && let Some((idx, _)) = s.char_indices().nth(p)
        {
            return &s[..idx];
        }
        s
    }

    fn fmt_s(&mut self, s: &str) {
        let t = self.truncate(s).to_string();
        self.pad_str(&t);
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    let q = quote(s);
                    self.pad_str(&q);
                } else {
                    self.fmt_s(s);
                }
            }
            's' => self.fmt_s(s),
            'x' => self.fmt_sx(s.as_bytes(), "0123456789abcdefx"),
            'X' => self.fmt_sx(s.as_bytes(), "0123456789ABCDEFX"),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_bytes(&mut self, b: &[u8], verb: char, v: &Value) {
        match verb {
            'v' | 'd' => {
                self.buf.push('[');
                for (i, c) in b.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.fmt_integer(*c as i64, IntKind::Uint8, verb, v);
                }
                self.buf.push(']');
            }
            's' => self.fmt_s(&String::from_utf8_lossy(b)),
            'x' => self.fmt_sx(b, "0123456789abcdefx"),
            'X' => self.fmt_sx(b, "0123456789ABCDEFX"),
            'q' => self.fmt_q(&String::from_utf8_lossy(b)),
            _ => self.print_value(
                &Value::list(
                    b.iter()
                        .map(|c| Value::Int(*c as i64, IntKind::Uint8))
                        .collect(),
                ),
                verb,
                0,
            ),
        }
    }

    fn fmt_sx(&mut self, b: &[u8], digits: &str) {
        // digits holds 16 hex digits followed by the prefix letter (x or X)
        let digits = digits.as_bytes();
        let mut length = b.len();
        if let Some(p) = self.f.prec {
            length = length.min(p);
        }
        let mut out = String::new();
        if self.f.sharp {
            out.push('0');
            out.push(digits[16] as char);
        }
        for (i, c) in b[..length].iter().enumerate() {
            if self.f.space && i > 0 {
                out.push(' ');
                if self.f.sharp {
                    out.push('0');
                    out.push(digits[16] as char);
                }
            }
            out.push(digits[(c >> 4) as usize] as char);
            out.push(digits[(c & 0xF) as usize] as char);
        }
        self.pad_str(&out);
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s).to_string();
        if self.f.sharp && can_backquote(&s) {
            let q = format!("`{s}`");
            self.pad_str(&q);
            return;
        }
        let q = if self.f.plus {
            quote_ascii(&s)
        } else {
            quote(&s)
        };
        self.pad_str(&q);
    }

    fn fmt_integer(&mut self, i: i64, k: IntKind, verb: char, v: &Value) {
        let unsigned = k.is_unsigned();
        match verb {
            'v' => {
                if self.f.sharp_v && unsigned {
                    self.fmt_int_base(i, unsigned, 16, 'v', "0123456789abcdef", true)
                } else {
                    self.fmt_int_base(i, unsigned, 10, 'v', "0123456789", false)
                }
            }
            'd' => self.fmt_int_base(i, unsigned, 10, verb, "0123456789", false),
            'b' => self.fmt_int_base(i, unsigned, 2, verb, "01", false),
            'o' | 'O' => self.fmt_int_base(i, unsigned, 8, verb, "01234567", false),
            'x' => self.fmt_int_base(i, unsigned, 16, verb, "0123456789abcdefx", false),
            'X' => self.fmt_int_base(i, unsigned, 16, verb, "0123456789ABCDEFX", false),
            'c' => {
                let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
                self.pad_str(&c.to_string());
            }
            'q' => {
                let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
                let q = quote_rune(c, self.f.plus);
                self.pad_str(&q);
            }
            'U' => {
                let mut s = format!("U+{:04X}", i);
                if self.f.sharp
                    && let Some(c) = char::from_u32(i as u32)
                    && is_print(c)
                {
                    s.push_str(&format!(" '{c}'"));
                }
                self.pad_str(&s);
            }
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_int_base(
        &mut self,
        i: i64,
        unsigned: bool,
        base: u64,
        verb: char,
        digits: &str,
        force_sharp: bool,
    ) {
        let negative = !unsigned && i < 0;
        let mut u: u64 = if negative {
            (i as i128).unsigned_abs() as u64
        } else {
            i as u64
        };
        let digits = digits.as_bytes();
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let z = self.f.zero;
                self.f.zero = false;
                let w = self.f.wid.unwrap_or(0);
                self.buf.extend(std::iter::repeat_n(' ', w));
                self.f.zero = z;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid.is_some() {
            prec = self.f.wid.unwrap_or(0);
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut buf: Vec<u8> = Vec::new();
        loop {
            buf.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while buf.len() < prec {
            buf.push(b'0');
        }
        if self.f.sharp || force_sharp {
            match base {
                2 => {
                    buf.push(b'b');
                    buf.push(b'0');
                }
                8 if buf.last() != Some(&b'0') => {
                    buf.push(b'0');
                }
                16 => {
                    buf.push(if digits.len() > 16 { digits[16] } else { b'x' });
                    buf.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            buf.push(b'o');
            buf.push(b'0');
        }
        if negative {
            buf.push(b'-');
        } else if self.f.plus {
            buf.push(b'+');
        } else if self.f.space {
            buf.push(b' ');
        }
        buf.reverse();
        let s = String::from_utf8(buf).unwrap_or_default();
        self.pad_spaces_only(&s);
    }

    fn fmt_float_verb(&mut self, x: f64, verb: char, v: &Value) {
        match verb {
            'v' => self.fmt_float(x, 'g', None),
            'g' | 'G' | 'b' | 'x' | 'X' => self.fmt_float(x, verb, None),
            'f' | 'F' | 'e' | 'E' => self.fmt_float(x, verb, Some(6)),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_float(&mut self, x: f64, verb: char, default_prec: Option<usize>) {
        let prec = self.f.prec.or(default_prec);
        let verb_s = if verb == 'F' { 'f' } else { verb };
        let mut num = format_float(x, verb_s, prec.map(|p| p as i64).unwrap_or(-1));
        if !num.starts_with('-') && !num.starts_with('+') {
            num.insert(0, '+');
        }
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        let second = num.as_bytes().get(1).copied().unwrap_or(b'0');
        if second == b'I' || second == b'N' {
            if second == b'N' && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad_spaces_only(&num);
            return;
        }
        if self.f.sharp && verb != 'b' {
            let mut digits = 0usize;
            match verb {
                'v' | 'g' | 'G' | 'x' => {
                    digits = prec.unwrap_or(6);
                    if verb == 'x' && prec.is_none() {
                        digits = 0;
                    }
                }
                _ => {}
            }
            let bytes: Vec<char> = num.chars().collect();
            let mut tail = String::new();
            let mut saw_nonzero = false;
            let mut body = String::new();
            let mut idx = 1;
            let mut has_point = false;
            while idx < bytes.len() {
                let c = bytes[idx];
                match c {
                    '.' => has_point = true,
                    'p' | 'P' | 'e' | 'E' if verb != 'x' && verb != 'X' || c == 'p' || c == 'P' => {
                        tail = bytes[idx..].iter().collect();
                        break;
                    }
                    '0'..='9' => {
                        if c != '0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits = digits.saturating_sub(1);
                        }
                    }
                    _ => {}
                }
                body.push(c);
                idx += 1;
            }
            if !has_point {
                if body.len() == 1 && body == "0" {
                    digits = digits.saturating_sub(1);
                }
                body.push('.');
            }
            while digits > 0 {
                body.push('0');
                digits -= 1;
            }
            num = format!("{}{}{}", &num[..1], body, tail);
        }
        if self.f.plus || !num.starts_with('+') {
            let w = self.f.wid.unwrap_or(0);
            if self.f.zero && !self.f.minus && self.f.wid.is_some() && w > num.chars().count() {
                let sign = num.remove(0);
                self.buf.push(sign);
                self.buf
                    .extend(std::iter::repeat_n('0', w - num.chars().count() - 1));
                self.buf.push_str(&num);
                return;
            }
            self.pad_str(&num);
            return;
        }
        let rest = num[1..].to_string();
        self.pad_str(&rest);
    }
}

/// Go's `argNumber`: an optional `[n]` index.
fn arg_number(arg_num: usize, s: &[u8], i: usize, num_args: usize) -> (usize, usize, bool) {
    if s.len() <= i || s[i] != b'[' {
        return (arg_num, i, true);
    }
    // parseArgNumber
    let rest = &s[i..];
    if rest.len() < 3 {
        return (arg_num, i + 1, false);
    }
    for j in 1..rest.len() {
        if rest[j] == b']' {
            let (n, end) = parse_num(rest, 1);
            match n {
                Some(n) if end == j && n >= 1 => {
                    let idx = n - 1;
                    if idx < num_args {
                        return (idx, i + j + 1, true);
                    }
                    return (arg_num, i + j + 1, false);
                }
                _ => return (arg_num, i + j + 1, false),
            }
        }
    }
    (arg_num, i + 1, false)
}

/// Go's `intFromArg`: an int operand for `*` width or precision.
fn int_from_arg(args: &[Value], arg_num: usize) -> (Option<i64>, bool, usize) {
    if arg_num < args.len() {
        let n = match &args[arg_num] {
            Value::Int(i, _) => Some(*i),
            _ => None,
        };
        (n, n.is_some(), arg_num + 1)
    } else {
        (None, false, arg_num)
    }
}

/// Digits and decimal point position of a float, as strconv's decimal conversion gives them.
struct Digits {
    d: Vec<u8>,
    /// position of the decimal point: value = 0.d * 10^dp
    dp: i64,
}

/// Shortest digits that round-trip (strconv's shortest mode), for float64 or float32.
fn shortest_digits(x: f64, bits: u32) -> Digits {
    let s = if bits == 32 {
        format!("{:e}", (x as f32).abs())
    } else {
        format!("{:e}", x.abs())
    };
    digits_from_exp(&s)
}

/// `n` significant digits, correctly rounded.
fn rounded_digits(x: f64, n: usize) -> Digits {
    let n = n.max(1);
    let s = format!("{:.*e}", n - 1, x.abs());
    digits_from_exp(&s)
}

fn digits_from_exp(s: &str) -> Digits {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    if d.iter().all(|&c| c == b'0') {
        return Digits { d: vec![], dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

fn trim_zeros(mut d: Digits) -> Digits {
    while d.d.last() == Some(&b'0') {
        d.d.pop();
    }
    if d.d.is_empty() {
        d.dp = 0;
    }
    d
}

/// `strconv.FormatFloat(x, fmt, prec, 64)` for the formats templates use (e, E, f, g, G).
pub fn format_float(x: f64, fmt: char, prec: i64) -> String {
    format_float_bits(x, fmt, prec, 64)
}

/// `strconv.FormatFloat(x, fmt, prec, bits)`.
pub fn format_float_bits(x: f64, fmt: char, prec: i64, bits: u32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = x.is_sign_negative();
    let shortest = prec < 0;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    match fmt {
        'e' | 'E' => {
            let (digs, p) = if shortest {
                let d = shortest_digits(x, bits);
                let p = d.d.len().max(1) as i64 - 1;
                (d, p)
            } else {
                (rounded_digits(x, prec as usize + 1), prec)
            };
            fmt_e(&mut out, &digs, p, fmt);
        }
        'f' => {
            if shortest {
                let d = shortest_digits(x, bits);
                let p = (d.d.len() as i64 - d.dp).max(0);
                fmt_f(&mut out, &d, p);
            } else {
                out.push_str(&format!("{:.*}", prec as usize, x.abs()));
            }
        }
        'g' | 'G' => {
            let (digs, mut p) = if shortest {
                let d = shortest_digits(x, bits);
                let n = d.d.len() as i64;
                (d, n)
            } else {
                let p = if prec == 0 { 1 } else { prec };
                (trim_zeros(rounded_digits(x, p as usize)), p)
            };
            let nd = digs.d.len() as i64;
            let mut eprec = p;
            if eprec > nd && nd >= digs.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = digs.dp - 1;
            if nd == 0 {
                // zero
                if exp < -4 || exp >= eprec {
                    // unreachable for zero (dp = 0 gives exp -1)
                }
                out.push('0');
                return out;
            }
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &digs, p - 1, if fmt == 'g' { 'e' } else { 'E' });
            } else {
                if p > digs.dp {
                    p = nd;
                }
                fmt_f(&mut out, &digs, (p - digs.dp).max(0));
            }
        }
        _ => out.push_str(&format!("{x}")),
    }
    out
}

fn fmt_e(out: &mut String, d: &Digits, prec: i64, fmt: char) {
    let first = d.d.first().copied().unwrap_or(b'0');
    out.push(first as char);
    if prec > 0 {
        out.push('.');
        let mut i = 1usize;
        let m = (d.d.len() as i64).min(prec + 1) as usize;
        while i < m {
            out.push(d.d[i] as char);
            i += 1;
        }
        for _ in (i as i64)..=prec {
            out.push('0');
        }
    }
    out.push(fmt);
    let mut exp = d.dp - 1;
    if d.d.is_empty() {
        exp = 0;
    }
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
        out.push_str(&exp.to_string());
    } else {
        out.push_str(&exp.to_string());
    }
}

fn fmt_f(out: &mut String, d: &Digits, prec: i64) {
    if d.dp > 0 {
        let m = (d.d.len() as i64).min(d.dp) as usize;
        for c in &d.d[..m] {
            out.push(*c as char);
        }
        for _ in m as i64..d.dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = d.dp + i - 1;
            let c = if j >= 0 && (j as usize) < d.d.len() {
                d.d[j as usize]
            } else {
                b'0'
            };
            out.push(c as char);
        }
    }
}

/// Go's `unicode.IsPrint`, closely enough: graphic characters plus ASCII space.
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFFFE | 0xFFFF | 0xD800..=0xDFFF
        | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0001 | 0xE0020..=0xE007F)
}

fn push_escaped(out: &mut String, c: char, ascii_only: bool, quote: char) {
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 0x80 && is_print(c) => out.push(c),
        c if !ascii_only && is_print(c) => out.push(c),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, false, '"');
    }
    out.push('"');
    out
}

/// `strconv.Quote` of a byte string that may hold invalid UTF-8.
pub fn quote_bytes(b: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut rest = b;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                for c in s.chars() {
                    push_escaped(&mut out, c, false, '"');
                }
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                let s = std::str::from_utf8(&rest[..good]).unwrap_or_default();
                for c in s.chars() {
                    push_escaped(&mut out, c, false, '"');
                }
                out.push_str(&format!("\\x{:02x}", rest[good]));
                rest = &rest[good + 1..];
            }
        }
    }
    out.push('"');
    out
}

/// `strconv.QuoteToASCII`.
pub fn quote_ascii(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        push_escaped(&mut out, c, true, '"');
    }
    out.push('"');
    out
}

/// Go's `%q` of a `[]rune`: each rune as a quoted character literal, in brackets.
pub fn quote_runes(s: &str) -> String {
    let runes: Vec<String> = s.chars().map(|c| quote_rune(c, false)).collect();
    format!("[{}]", runes.join(" "))
}

fn quote_rune(c: char, ascii: bool) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, ascii, '\'');
    out.push('\'');
    out
}

fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| {
        c != '`' && c != '\u{FEFF}' && (c == '\t' || ((c as u32) >= 0x20 && c as u32 != 0x7f))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        format_v(&Value::Float(x))
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(f(1.0), "1");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(100000.0), "100000");
        assert_eq!(f(1000000.0), "1e+06");
        assert_eq!(f(123456789.0), "1.23456789e+08");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.00001), "1e-05");
        assert_eq!(f(-2.5), "-2.5");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(f64::INFINITY), "+Inf");
        assert_eq!(sprintf("%.2f", &[Value::Float(1.23456)]), "1.23");
        assert_eq!(sprintf("%e", &[Value::Float(1500.0)]), "1.500000e+03");
        assert_eq!(sprintf("%g", &[Value::Float(1e21)]), "1e+21");
        assert_eq!(sprintf("%.3g", &[Value::Float(1.0)]), "1");
        assert_eq!(sprintf("%6.2f|", &[Value::Float(1.0)]), "  1.00|");
        assert_eq!(sprintf("%06.2f", &[Value::Float(-1.0)]), "-01.00");
    }

    #[test]
    fn verbs_and_errors() {
        assert_eq!(sprintf("%d", &[Value::int(42)]), "42");
        assert_eq!(sprintf("%05d", &[Value::int(-42)]), "-0042");
        assert_eq!(
            sprintf(
                "%x %X %o %b",
                &[
                    Value::int(255),
                    Value::int(255),
                    Value::int(8),
                    Value::int(5)
                ]
            ),
            "ff FF 10 101"
        );
        assert_eq!(sprintf("%#x", &[Value::int(255)]), "0xff");
        assert_eq!(sprintf("%q", &[Value::str("a\"b\n")]), "\"a\\\"b\\n\"");
        assert_eq!(sprintf("%d", &[Value::str("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%d %d", &[Value::int(1)]), "1 %!d(MISSING)");
        assert_eq!(
            sprintf("%d", &[Value::int(1), Value::str("a")]),
            "1%!(EXTRA string=a)"
        );
        assert_eq!(
            sprintf("%-5s|%5s", &[Value::str("ab"), Value::str("cd")]),
            "ab   |   cd"
        );
        assert_eq!(
            sprintf("%[2]s %[1]s", &[Value::str("a"), Value::str("b")]),
            "b a"
        );
        assert_eq!(sprintf("%v", &[Value::Nil]), "<nil>");
        assert_eq!(sprintf("%s", &[Value::Nil]), "%!s(<nil>)");
        assert_eq!(sprintf("%T", &[Value::int64(1)]), "int64");
        assert_eq!(sprintf("%c", &[Value::int(65)]), "A");
        assert_eq!(sprintf("%x", &[Value::str("hi")]), "6869");
        assert_eq!(sprintf("100%%", &[]), "100%");
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(sprint(&[Value::int(1), Value::int(2)]), "1 2");
        assert_eq!(sprint(&[Value::str("a"), Value::str("b")]), "ab");
        assert_eq!(
            sprint(&[Value::str("a"), Value::int(1), Value::int(2)]),
            "a1 2"
        );
    }
}
