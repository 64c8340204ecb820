//! User-defined health checks: Flux's `healthCheckExprs` (CEL) and Argo CD's
//! `resource.customizations.health` (Lua). A user's check is their statement of truth for its
//! kind, so it decides both views: a CEL result gives the kstatus view and, unless a Lua script
//! also covers the kind, the Argo CD view; a Lua result gives the Argo CD view and, unless CEL
//! expressions also cover the kind, the kstatus view.

pub mod cel;
pub mod lua;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::object::Object;
use crate::status::{Basis, Health, KStatus, Status};
pub use cel::{CelCheck, CelError, HealthCheckExprs};
pub use lua::{LuaError, LuaLimits};

/// One Argo CD Lua health script and the objects it judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LuaHealthScript {
    /// API group, `*` wildcards allowed ("" for the core group).
    pub group: String,
    /// Kind, `*` wildcards allowed.
    pub kind: String,
    /// The script.
    pub script: String,
    /// Argo CD's `useOpenLibs`: ferry's sandbox always offers the same safe libraries (string,
    /// table, math, utf8, a clock-only os), so this only records the user's setting.
    pub use_open_libs: bool,
}

/// Why checks could not be set up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckError {
    /// A CEL expression does not parse.
    #[error(transparent)]
    Cel(#[from] CelError),
    /// A Lua script does not compile.
    #[error(transparent)]
    Lua(#[from] LuaError),
}

const HEALTH_PREFIX: &str = "resource.customizations.health.";
const OPEN_LIBS_PREFIX: &str = "resource.customizations.useOpenLibs.";

/// Splits Argo CD's `<group>_<kind>` key part (the core group is written as nothing).
fn split_group_kind(key: &str) -> (&str, &str) {
    match key.rsplit_once('_') {
        Some((group, kind)) => (group, kind),
        None => ("", key),
    }
}

/// The Lua health scripts of an `argocd-cm` ConfigMap's data
/// (`resource.customizations.health.<group>_<kind>` and
/// `resource.customizations.useOpenLibs.<group>_<kind>` keys).
pub fn lua_scripts_from_argocd_cm(data: &BTreeMap<String, String>) -> Vec<LuaHealthScript> {
    data.iter()
        .filter_map(|(key, script)| {
            let group_kind = key.strip_prefix(HEALTH_PREFIX)?;
            let (group, kind) = split_group_kind(group_kind);
            let open_libs = data
                .get(&format!("{OPEN_LIBS_PREFIX}{group_kind}"))
                .is_some_and(|v| v.trim() == "true");
            Some(LuaHealthScript {
                group: group.to_owned(),
                kind: kind.to_owned(),
                script: script.clone(),
                use_open_libs: open_libs,
            })
        })
        .collect()
}

/// The Lua health scripts of Argo CD's older single `resource.customizations` key, once its
/// YAML is parsed: a map from `<group>/<kind>` to `{health.lua, health.lua.useOpenLibs}`.
pub fn lua_scripts_from_legacy_customizations(customizations: &Value) -> Vec<LuaHealthScript> {
    let Some(entries) = customizations.as_object() else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(group_kind, settings)| {
            let script = settings.get("health.lua")?.as_str()?;
            let (group, kind) = group_kind.rsplit_once('/').unwrap_or(("", group_kind));
            Some(LuaHealthScript {
                group: group.to_owned(),
                kind: kind.to_owned(),
                script: script.to_owned(),
                use_open_libs: settings
                    .get("health.lua.useOpenLibs")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
        })
        .collect()
}

/// Glob match with `*` (any run of characters) and `?` (one character), as Argo CD's keys use.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// User checks, compiled once, applied with [`Checks::assess`].
#[derive(Debug, Default)]
pub struct Checks {
    cel: Vec<CelCheck>,
    /// Exact entries first, so they win over wildcard ones as in Argo CD.
    lua: Vec<LuaHealthScript>,
    limits: LuaLimits,
}

impl Checks {
    /// Compiles Flux CEL expressions and Argo CD Lua scripts; a syntax error in any is an error.
    pub fn new(cel: &[HealthCheckExprs], lua: Vec<LuaHealthScript>) -> Result<Checks, CheckError> {
        let cel = cel
            .iter()
            .map(CelCheck::compile)
            .collect::<Result<Vec<_>, _>>()?;
        for script in &lua {
            lua::compile(&format!("{}/{}", script.group, script.kind), &script.script)?;
        }
        let mut lua = lua;
        lua.sort_by_key(|s| is_pattern(&s.group) || is_pattern(&s.kind));
        Ok(Checks {
            cel,
            lua,
            limits: LuaLimits::default(),
        })
    }

    /// The same checks with other bounds on Lua scripts.
    pub fn with_lua_limits(mut self, limits: LuaLimits) -> Checks {
        self.limits = limits;
        self
    }

    /// True when no check is configured.
    pub fn is_empty(&self) -> bool {
        self.cel.is_empty() && self.lua.is_empty()
    }

    fn cel_for(&self, group: &str, kind: &str) -> Option<&CelCheck> {
        self.cel.iter().find(|c| c.group == group && c.kind == kind)
    }

    fn lua_for(&self, group: &str, kind: &str) -> Option<&LuaHealthScript> {
        self.lua
            .iter()
            .find(|s| glob_match(&s.group, group) && glob_match(&s.kind, kind))
    }

    /// The health of an object with these checks applied over the built-in rules.
    pub fn assess(&self, value: &Value) -> Health {
        let obj = Object::new(value);
        let mut health = crate::assess_object(&obj, true);
        if health.kstatus == KStatus::Terminating {
            // Both tools judge deletion before any check of the kind.
            return health;
        }
        let cel = self
            .cel_for(obj.group, obj.kind)
            .map(|check| check.evaluate(value));
        if let Some(result) = &cel {
            match result {
                Ok((status, message)) => {
                    health.kstatus = *status;
                    health.kstatus_message.clone_from(message);
                }
                Err(error) => {
                    health.kstatus = KStatus::Unknown;
                    health.kstatus_message = error.to_string();
                }
            }
        }
        let lua = self
            .lua_for(obj.group, obj.kind)
            .map(|script| lua::run(&script.script, value, &self.limits));
        match lua {
            Some(result) => {
                health.basis = Basis::Lua;
                match result {
                    Ok(Some((status, message))) => {
                        health.status = Some(status);
                        health.message = message;
                    }
                    Ok(None) => {
                        health.status = None;
                        health.message = String::new();
                    }
                    Err(error) => {
                        health.status = Some(Status::Unknown);
                        health.message = error.to_string();
                    }
                }
                if cel.is_none() {
                    health.kstatus = health.status.map_or(KStatus::Current, Status::to_kstatus);
                    health.kstatus_message.clone_from(&health.message);
                }
            }
            None if cel.is_some() => {
                health.basis = Basis::Cel;
                health.status = Some(health.kstatus.to_status());
                health.message.clone_from(&health.kstatus_message);
            }
            None => {}
        }
        health
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Checks>();
    }

    #[test]
    fn globs_match_like_argo_cd_keys() {
        assert!(glob_match("*.aws.crossplane.io", "ec2.aws.crossplane.io"));
        assert!(glob_match("*", "Anything"));
        assert!(glob_match("Cert?ficate", "Certificate"));
        assert!(!glob_match("*.crossplane.io", "crossplane.io.example.com"));
        assert!(glob_match("cert-manager.io", "cert-manager.io"));
        assert!(!glob_match("cert-manager.io", "cert-manager.iox"));
    }

    #[test]
    fn argocd_cm_keys_name_group_and_kind() {
        let data: BTreeMap<String, String> = [
            (
                "resource.customizations.health.cert-manager.io_Certificate",
                "return nil",
            ),
            (
                "resource.customizations.useOpenLibs.cert-manager.io_Certificate",
                "true",
            ),
            ("resource.customizations.health.ConfigMap", "return nil"),
            ("resource.customizations.ignoreDifferences.all", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let scripts = lua_scripts_from_argocd_cm(&data);
        assert_eq!(scripts.len(), 2);
        assert_eq!(
            (scripts[0].group.as_str(), scripts[0].kind.as_str()),
            ("", "ConfigMap")
        );
        assert_eq!(
            (
                scripts[1].group.as_str(),
                scripts[1].kind.as_str(),
                scripts[1].use_open_libs
            ),
            ("cert-manager.io", "Certificate", true)
        );
    }

    #[test]
    fn legacy_customizations_name_group_and_kind() {
        let value = serde_json::json!({
            "argoproj.io/Application": {"health.lua": "return nil", "health.lua.useOpenLibs": true},
            "apps/Deployment": {"ignoreDifferences": "x"}
        });
        let scripts = lua_scripts_from_legacy_customizations(&value);
        assert_eq!(scripts.len(), 1);
        assert_eq!(
            (scripts[0].group.as_str(), scripts[0].kind.as_str()),
            ("argoproj.io", "Application")
        );
    }
}
