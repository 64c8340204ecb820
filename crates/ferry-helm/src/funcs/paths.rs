//! Go's `path` functions (and `path/filepath`, identical on Linux).

use super::{Reg, arg_str, s};
use crate::object::Param::*;
use crate::template::GoError;
use crate::value::Value;

type R = Result<Value, GoError>;

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = vec![];
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// Go's `path.Base`.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

/// Go's `path.Dir`.
pub fn dir(p: &str) -> String {
    let d = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    clean(d)
}

/// Go's `path.Ext`.
pub fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

fn f_base(a: &[Value]) -> R {
    Ok(s(base(arg_str(a, 0))))
}

fn f_dir(a: &[Value]) -> R {
    Ok(s(dir(arg_str(a, 0))))
}

fn f_clean(a: &[Value]) -> R {
    Ok(s(clean(arg_str(a, 0))))
}

fn f_ext(a: &[Value]) -> R {
    Ok(s(ext(arg_str(a, 0))))
}

fn f_is_abs(a: &[Value]) -> R {
    Ok(Value::Bool(arg_str(a, 0).starts_with('/')))
}

pub(super) fn register(r: &mut Reg<'_>) {
    for (go, os) in [
        ("base", "osBase"),
        ("dir", "osDir"),
        ("clean", "osClean"),
        ("ext", "osExt"),
        ("isAbs", "osIsAbs"),
    ] {
        let f = match go {
            "base" => f_base,
            "dir" => f_dir,
            "clean" => f_clean,
            "ext" => f_ext,
            _ => f_is_abs,
        };
        r.f(go, &[Str], f);
        r.f(os, &[Str], f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_semantics() {
        assert_eq!(clean("a//b/../c/."), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(base("/a/b/"), "b");
        assert_eq!(base(""), ".");
        assert_eq!(dir("a/b/c"), "a/b");
        assert_eq!(dir("c"), ".");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
    }
}
