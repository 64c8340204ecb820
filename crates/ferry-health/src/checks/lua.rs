//! Argo CD's `resource.customizations.health.<group>_<kind>` Lua scripts, run in a sandboxed Lua
//! 5.4: the script gets the object as the global `obj` and returns `{status = ..., message =
//! ...}`. No I/O, no `require` beyond the safe standard modules, no loading of code or bytecode,
//! a bounded number of instructions and a bounded heap; every run gets a fresh state, so
//! scripts cannot leak into one another.

use mlua::{HookTriggers, Lua, LuaOptions, StdLib, Table, VmState};
use serde_json::Value;

use crate::status::Status;

/// Bounds on one run of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LuaLimits {
    /// Lua VM instructions a script may execute.
    pub instructions: u64,
    /// Bytes the Lua heap may hold (the object itself included).
    pub memory_bytes: usize,
    /// How deep the object may nest before conversion refuses it.
    pub max_depth: usize,
}

impl Default for LuaLimits {
    /// 10 million instructions (a few tens of milliseconds: real health scripts need
    /// thousands), 32 MiB of heap, 128 levels of nesting.
    fn default() -> LuaLimits {
        LuaLimits {
            instructions: 10_000_000,
            memory_bytes: 32 << 20,
            max_depth: 128,
        }
    }
}

/// Why a script gave no health.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LuaError {
    /// The script does not compile.
    #[error("lua health script for {target} does not compile: {message}")]
    Syntax {
        /// `<group>/<kind>` the script is for.
        target: String,
        /// Lua's message.
        message: String,
    },
    /// The script raised an error, or hit a limit.
    #[error("{message}")]
    Runtime {
        /// Lua's message (first line, without the stack traceback).
        message: String,
    },
    /// The script returned something that is not a table or nil.
    #[error("lua health script returned a {found} instead of a table")]
    ReturnType {
        /// Lua's name for the returned type.
        found: String,
    },
}

/// Checks that a script compiles, without running it.
pub fn compile(target: &str, script: &str) -> Result<(), LuaError> {
    let lua = Lua::new_with(StdLib::NONE, LuaOptions::default()).map_err(|e| LuaError::Syntax {
        target: target.to_owned(),
        message: first_line(&e.to_string()),
    })?;
    lua.load(script)
        .set_name("health.lua")
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
        .map(|_| ())
        .map_err(|e| LuaError::Syntax {
            target: target.to_owned(),
            message: first_line(&e.to_string()),
        })
}

fn first_line(message: &str) -> String {
    let message = message.split("\nstack traceback").next().unwrap_or(message);
    message.trim_end().to_owned()
}

fn runtime(e: mlua::Error) -> LuaError {
    let message = match &e {
        mlua::Error::MemoryError(_) => "lua health script exceeded its memory limit".to_owned(),
        mlua::Error::RuntimeError(message) => first_line(message),
        mlua::Error::CallbackError { cause, .. } => match cause.as_ref() {
            mlua::Error::RuntimeError(message) => first_line(message),
            other => first_line(&other.to_string()),
        },
        _ => first_line(&e.to_string()),
    };
    LuaError::Runtime { message }
}

/// Globals of the base library a health check must not reach: code loading (source or
/// bytecode) and files.
const REMOVED_GLOBALS: &[&str] = &[
    "dofile",
    "loadfile",
    "load",
    "loadstring",
    "collectgarbage",
    "print",
];

/// `os` functions kept: reading the clock is what Argo CD's "safe os" offers scripts.
const SAFE_OS: &[&str] = &["time", "date", "clock", "difftime"];

/// Builds the sandbox: base, table, string, math, utf8 and a clock-only `os`.
fn sandbox(limits: &LuaLimits) -> mlua::Result<Lua> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::OS,
        LuaOptions::default(),
    )?;
    lua.set_memory_limit(limits.memory_bytes)?;
    let globals = lua.globals();
    for name in REMOVED_GLOBALS {
        globals.raw_set(*name, mlua::Nil)?;
    }
    let string: Table = globals.get("string")?;
    string.raw_set("dump", mlua::Nil)?;
    let os: Table = globals.get("os")?;
    let safe_os = lua.create_table()?;
    for name in SAFE_OS {
        safe_os.raw_set(*name, os.get::<mlua::Value>(*name)?)?;
    }
    globals.raw_set("os", safe_os.clone())?;
    // Lua 5.1 names Argo CD's scripts (gopher-lua) may use.
    let table: Table = globals.get("table")?;
    globals.raw_set("unpack", table.get::<mlua::Value>("unpack")?)?;
    // `require` only hands out the modules already loaded, as Argo CD preloads its safe `os`.
    let modules = lua.create_table()?;
    for name in ["string", "table", "math", "utf8"] {
        modules.raw_set(name, globals.get::<mlua::Value>(name)?)?;
    }
    modules.raw_set("os", safe_os)?;
    let require = lua.create_function(move |_, name: String| {
        modules
            .raw_get::<mlua::Value>(name.as_str())
            .and_then(|module| match module {
                mlua::Value::Nil => Err(mlua::Error::runtime(format!(
                    "module '{name}' is not available to health scripts"
                ))),
                module => Ok(module),
            })
    })?;
    globals.raw_set("require", require)?;
    Ok(lua)
}

/// The object as Lua values: maps become tables, arrays sequences (1-based), integers stay
/// integers (so `tostring(3)` is "3", as in Argo CD), null is nil.
fn to_lua(lua: &Lua, value: &Value, depth: usize, limits: &LuaLimits) -> mlua::Result<mlua::Value> {
    if depth > limits.max_depth {
        return Err(mlua::Error::runtime(format!(
            "object nests deeper than {} levels",
            limits.max_depth
        )));
    }
    Ok(match value {
        Value::Null => mlua::Value::Nil,
        Value::Bool(b) => mlua::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => mlua::Value::Integer(i),
            None => mlua::Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => mlua::Value::String(lua.create_string(s)?),
        Value::Array(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                table.raw_set(i + 1, to_lua(lua, item, depth + 1, limits)?)?;
            }
            mlua::Value::Table(table)
        }
        Value::Object(map) => {
            let table = lua.create_table_with_capacity(0, map.len())?;
            for (key, item) in map {
                table.raw_set(key.as_str(), to_lua(lua, item, depth + 1, limits)?)?;
            }
            mlua::Value::Table(table)
        }
    })
}

/// What a script said: a status and message, or nothing (it returned nil).
pub type Outcome = Option<(Status, String)>;

/// Argo CD's message when a script returns a status it does not know.
pub const INVALID_STATUS: &str = "Lua returned an invalid health status";

/// Runs a health script on an object.
pub fn run(script: &str, object: &Value, limits: &LuaLimits) -> Result<Outcome, LuaError> {
    let lua = sandbox(limits).map_err(runtime)?;
    let budget = limits.instructions;
    const STEP: u32 = 1000;
    let executed = std::cell::Cell::new(0u64);
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(STEP),
        move |_, _| {
            executed.set(executed.get() + u64::from(STEP));
            if executed.get() > budget {
                Err(mlua::Error::runtime(format!(
                    "lua health script exceeded its limit of {budget} instructions"
                )))
            } else {
                Ok(VmState::Continue)
            }
        },
    )
    .map_err(runtime)?;
    let obj = to_lua(&lua, object, 0, limits).map_err(runtime)?;
    lua.globals().raw_set("obj", obj).map_err(runtime)?;
    let returned: mlua::Value = lua
        .load(script)
        .set_name("health.lua")
        .set_mode(mlua::chunk::ChunkMode::Text)
        .eval()
        .map_err(runtime)?;
    match returned {
        mlua::Value::Nil => Ok(None),
        mlua::Value::Table(table) => {
            let status: Option<String> = table.get("status").ok();
            let message: Option<String> = table.get("message").ok();
            match status.as_deref().and_then(Status::parse) {
                Some(status) => Ok(Some((status, message.unwrap_or_default()))),
                None => Ok(Some((Status::Unknown, INVALID_STATUS.to_owned()))),
            }
        }
        other => Err(LuaError::ReturnType {
            found: other.type_name().to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(script: &str) -> Result<Outcome, LuaError> {
        run(
            script,
            &json!({"status": {"phase": "Running", "replicas": 3}}),
            &LuaLimits::default(),
        )
    }

    #[test]
    fn a_script_reads_obj_and_returns_a_status() {
        let got = outcome(
            r#"local hs = {}
               if obj.status.phase == "Running" then hs.status = "Healthy" end
               hs.message = tostring(obj.status.replicas) .. " replicas"
               return hs"#,
        );
        assert_eq!(got, Ok(Some((Status::Healthy, "3 replicas".to_owned()))));
    }

    #[test]
    fn nil_means_no_health_and_a_bad_status_is_unknown() {
        assert_eq!(outcome("return nil"), Ok(None));
        assert_eq!(
            outcome(r#"return {status = "Fine"}"#),
            Ok(Some((Status::Unknown, INVALID_STATUS.to_owned())))
        );
        assert!(matches!(
            outcome("return 3"),
            Err(LuaError::ReturnType { .. })
        ));
    }

    #[test]
    fn io_code_loading_and_the_os_are_out_of_reach() {
        for script in [
            "return io.open('/etc/passwd')",
            "return os.execute('true')",
            "return os.getenv('HOME')",
            "return load('return 1')()",
            "return loadstring('return 1')()",
            "return dofile('/etc/passwd')",
            "return string.dump(function() end)",
            "return require('io')",
            "return debug.getinfo(1)",
        ] {
            assert!(
                matches!(outcome(script), Err(LuaError::Runtime { .. })),
                "{script} ran"
            );
        }
        assert!(outcome("local os = require('os'); return {status = 'Healthy', message = tostring(os.time() > 0)}").is_ok());
    }

    #[test]
    fn an_endless_loop_stops_at_the_instruction_limit() {
        let limits = LuaLimits {
            instructions: 100_000,
            ..LuaLimits::default()
        };
        let got = run("while true do end", &json!({}), &limits);
        assert_eq!(
            got,
            Err(LuaError::Runtime {
                message: "lua health script exceeded its limit of 100000 instructions".to_owned()
            })
        );
    }

    #[test]
    fn a_heap_bomb_stops_at_the_memory_limit() {
        let limits = LuaLimits {
            memory_bytes: 4 << 20,
            ..LuaLimits::default()
        };
        let got = run(
            "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
            &json!({}),
            &limits,
        );
        assert!(
            matches!(got, Err(LuaError::Runtime { ref message }) if message.contains("memory")),
            "{got:?}"
        );
    }

    #[test]
    fn deep_objects_are_refused_not_overflowed() {
        let mut deep = json!(1);
        for _ in 0..1000 {
            deep = json!([deep]);
        }
        let got = run("return nil", &deep, &LuaLimits::default());
        assert!(
            matches!(got, Err(LuaError::Runtime { ref message }) if message.contains("deeper")),
            "{got:?}"
        );
    }

    #[test]
    fn syntax_errors_are_found_before_running() {
        assert!(compile("x/Y", "return {").is_err());
        assert!(compile("x/Y", "return {status = 'Healthy'}").is_ok());
    }
}
