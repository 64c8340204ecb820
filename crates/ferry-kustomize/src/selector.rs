//! Selecting resources: kustomize's patch/replacement target selectors (GVK exact, name and
//! namespace as anchored regular expressions matched against original or current values, label
//! and annotation selectors in Kubernetes' syntax).

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::kustfile::Selector;
use crate::resid::Gvk;
use crate::resource::Resource;

pub struct CompiledSelector {
    gvk: Gvk,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

fn anchored(s: &str) -> Result<Option<Regex>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{s})$"))
        .map(Some)
        .map_err(|e| Error::msg(format!("invalid regular expression '{s}': {e}")))
}

impl CompiledSelector {
    pub fn new(s: &Selector) -> Result<CompiledSelector, Error> {
        Ok(CompiledSelector {
            gvk: Gvk::new(&s.group, &s.version, &s.kind),
            name: anchored(&s.name)?,
            namespace: anchored(&s.namespace)?,
            labels: if s.label_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.label_selector)?)
            },
            annotations: if s.annotation_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.annotation_selector)?)
            },
        })
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let cur = r.cur_id();
        let org = r.org_id();
        if let Some(ns) = &self.namespace
            && !ns.is_match(org.effective_namespace())
            && !ns.is_match(cur.effective_namespace())
        {
            return false;
        }
        if let Some(n) = &self.name
            && !n.is_match(&org.name)
            && !n.is_match(&cur.name)
        {
            return false;
        }
        if !cur.gvk.is_selected(&self.gvk) {
            return false;
        }
        if let Some(l) = &self.labels
            && !l.matches(&r.labels())
        {
            return false;
        }
        if let Some(a) = &self.annotations
            && !a.matches(&r.annotations())
        {
            return false;
        }
        true
    }
}

/// Indices of the resources a selector picks, in order.
pub fn select(list: &[Resource], s: &Selector) -> Result<Vec<usize>, Error> {
    let c = CompiledSelector::new(s)?;
    Ok(list
        .iter()
        .enumerate()
        .filter(|(_, r)| c.matches(r))
        .map(|(i, _)| i)
        .collect())
}

#[derive(Debug, Clone)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A Kubernetes label selector string: `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
#[derive(Debug, Clone)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, Error> {
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let bad = || Error::msg(format!("unable to parse requirement: found '{part}'"));
            if let Some(rest) = part.strip_prefix('!') {
                reqs.push(Requirement::NotExists(rest.trim().to_string()));
            } else if let Some((k, v)) = part.split_once("!=") {
                reqs.push(Requirement::NotEquals(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = part.split_once("==") {
                reqs.push(Requirement::Equals(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = part.split_once('=') {
                reqs.push(Requirement::Equals(k.trim().into(), v.trim().into()));
            } else if let Some((k, rest)) = split_word(part, " notin ") {
                reqs.push(Requirement::NotIn(k, parse_set(&rest).ok_or_else(bad)?));
            } else if let Some((k, rest)) = split_word(part, " in ") {
                reqs.push(Requirement::In(k, parse_set(&rest).ok_or_else(bad)?));
            } else {
                reqs.push(Requirement::Exists(part.to_string()));
            }
        }
        Ok(LabelSelector { reqs })
    }

    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

fn split_word(s: &str, word: &str) -> Option<(String, String)> {
    s.find(word).map(|i| {
        (
            s[..i].trim().to_string(),
            s[i + word.len()..].trim().to_string(),
        )
    })
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
    )
}

/// Split on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let labels = json!({"app": "web", "tier": "front"});
        let labels = labels.as_object().expect("map");
        assert!(LabelSelector::parse("app=web").expect("p").matches(labels));
        assert!(
            LabelSelector::parse("app in (web, db),tier")
                .expect("p")
                .matches(labels)
        );
        assert!(
            !LabelSelector::parse("app notin (web)")
                .expect("p")
                .matches(labels)
        );
        assert!(
            LabelSelector::parse("!missing,tier!=back")
                .expect("p")
                .matches(labels)
        );
    }
}
