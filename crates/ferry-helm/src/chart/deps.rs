//! Chart dependencies as Helm processes them before rendering: aliases, `condition` and
//! `tags` enabling, `import-values`, and the coalescing of values across the chart tree
//! (subchart sections, `global`).

use super::Chart;
use super::metadata::ImportValue;
use super::values::{Plain, Table, coalesce_tables, strip_nulls};
use crate::funcs::semver::is_compatible_range;

/// Helm's `CoalesceValues` (`merge = false`) or `MergeValues` (`merge = true`): user values
/// over chart defaults, recursively for subcharts, with globals copied down.
pub fn coalesce(chart: &Chart, vals: &Table, merge: bool) -> Result<Table, String> {
    let mut dest = vals.clone();
    coalesce_into(chart, &mut dest, merge)?;
    Ok(dest)
}

fn coalesce_into(chart: &Chart, dest: &mut Table, merge: bool) -> Result<(), String> {
    coalesce_values(chart, dest, merge);
    coalesce_deps(chart, dest, merge)
}

fn coalesce_values(chart: &Chart, v: &mut Table, merge: bool) {
    let defaults = strip_nulls(&chart.values.0);
    for (key, val) in defaults {
        match v.get_mut(&key) {
            None => {
                v.insert(key, val);
            }
            Some(Plain::Null) => {
                if !merge {
                    v.remove(&key);
                }
            }
            Some(Plain::Map(dest)) => {
                if let Ok(src) = val.into_map() {
                    let child_merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(dest, src, child_merge);
                } else {
                    tracing::warn!(chart = %chart.name(), key = %key, "skipped value: not a table");
                }
            }
            Some(_) => {}
        }
    }
}

fn coalesce_deps(chart: &Chart, dest: &mut Table, merge: bool) -> Result<(), String> {
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut dv = match dest.remove(&name).map(Plain::into_map) {
            None => Table::new(),
            Some(Ok(m)) => m,
            Some(Err(other)) => {
                let shown = crate::gofmt::format_v(&other.to_value());
                dest.insert(name.clone(), other);
                return Err(format!("type mismatch on {name}: %!t({shown})"));
            }
        };
        coalesce_globals(&mut dv, dest);
        let r = coalesce_into(sub, &mut dv, merge);
        dest.insert(name, Plain::Map(dv));
        r?;
    }
    Ok(())
}

fn coalesce_globals(dest: &mut Table, src: &Table) {
    let mut dg = match dest.get("global") {
        None => Table::new(),
        Some(Plain::Map(m)) => m.clone(),
        Some(_) => {
            tracing::warn!("skipping globals because destination global is not a table");
            return;
        }
    };
    let sg = match src.get("global") {
        None => Table::new(),
        Some(Plain::Map(m)) => m.clone(),
        Some(_) => {
            tracing::warn!("skipping globals because source global is not a table");
            return;
        }
    };
    for (key, val) in sg {
        match val.into_map() {
            Ok(vv) => match dg.get(&key) {
                None => {
                    dg.insert(key, Plain::Map(vv));
                }
                Some(Plain::Map(destv)) => {
                    let mut vv = vv;
                    coalesce_tables(&mut vv, destv.clone(), true);
                    dg.insert(key, Plain::Map(vv));
                }
                Some(_) => tracing::warn!(key = %key, "conflict: cannot merge map onto non-map"),
            },
            Err(other) => {
                if matches!(dg.get(&key), Some(Plain::Map(_))) {
                    tracing::warn!(key = %key, "key is table; skipping");
                } else {
                    dg.insert(key, other);
                }
            }
        }
    }
    dest.insert("global".into(), Plain::Map(dg));
}

/// Helm's `Values.Table` on a plain tree.
pub fn table<'a>(v: &'a Table, path: &str) -> Option<&'a Table> {
    let mut cur = v;
    for part in path.split('.') {
        match cur.get(part) {
            Some(Plain::Map(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// Helm's `Values.PathValue` on a plain tree: a non-table value.
pub fn path_value<'a>(v: &'a Table, path: &str) -> Option<&'a Plain> {
    let parts: Vec<&str> = path.split('.').collect();
    let (key, head) = parts.split_last()?;
    let t = if head.is_empty() {
        v
    } else {
        table(v, &head.join("."))?
    };
    match t.get(*key) {
        Some(Plain::Map(_)) | None => None,
        Some(p) => Some(p),
    }
}

/// Helm's `ProcessDependenciesWithMerge`: enables/disables and aliases subcharts, then
/// imports values from children into parents.
pub fn process(chart: &mut Chart, vals: &Table) -> Result<(), String> {
    process_enabled(chart, vals, "")?;
    process_import_values(chart)
}

fn process_enabled(c: &mut Chart, v: &Table, path: &str) -> Result<(), String> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    // charts in charts/ that Chart.yaml does not list stay as they are
    let mut deps: Vec<Chart> = c
        .dependencies
        .iter()
        .filter(|existing| {
            !c.metadata.dependencies.iter().any(|req| {
                existing.name() == req.name
                    && is_compatible_range(&req.version, &existing.metadata.version)
            })
        })
        .cloned()
        .collect();
    for req in &mut c.metadata.dependencies {
        if let Some(found) = c.dependencies.iter().find(|ch| {
            ch.name() == req.name && is_compatible_range(&req.version, &ch.metadata.version)
        }) {
            let mut aliased = found.clone();
            if !req.alias.is_empty() {
                aliased.metadata.name = req.alias.clone();
            }
            deps.push(aliased);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    c.dependencies = deps;
    for req in &mut c.metadata.dependencies {
        req.enabled = true;
    }
    let cvals = coalesce(c, v, false)?;
    // tags
    if let Some(tags) = table(&cvals, "tags") {
        for r in &mut c.metadata.dependencies {
            let (mut has_true, mut has_false) = (false, false);
            for t in &r.tags {
                match tags.get(t) {
                    Some(Plain::Bool(true)) => has_true = true,
                    Some(Plain::Bool(false)) => has_false = true,
                    Some(_) => {
                        tracing::warn!(tag = %t, chart = %r.name, "tag returned non-bool value")
                    }
                    None => {}
                }
            }
            if !has_true && has_false {
                r.enabled = false;
            } else if has_true || !has_false {
                r.enabled = true;
            }
        }
    }
    // conditions
    for r in &mut c.metadata.dependencies {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            match path_value(&cvals, &format!("{path}{cond}")) {
                Some(Plain::Bool(b)) => {
                    r.enabled = *b;
                    break;
                }
                Some(_) => {
                    tracing::warn!(condition = %cond, chart = %r.name, "condition path returned non-bool value")
                }
                None => {}
            }
        }
    }
    let disabled: Vec<String> = c
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.dependencies
        .retain(|d| !disabled.contains(&d.metadata.name));
    c.metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for t in &mut c.dependencies {
        let sub = format!("{path}{}.", t.metadata.name);
        process_enabled(t, &cvals, &sub)?;
    }
    Ok(())
}

fn path_to_map(path: &str, data: Table) -> Table {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Table::new();
        m.insert(part.to_string(), Plain::Map(cur));
        cur = m;
    }
    cur
}

fn process_import_values(c: &mut Chart) -> Result<(), String> {
    for d in &mut c.dependencies {
        process_import_values(d)?;
    }
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = coalesce(c, &Table::new(), true)?;
    let mut b = Table::new();
    for r in &mut c.metadata.dependencies {
        let mut outiv = vec![];
        for iv in &r.import_values {
            match iv {
                ImportValue::Map { child, parent } | ImportValue::Processed { child, parent } => {
                    outiv.push(ImportValue::Processed {
                        child: child.clone(),
                        parent: parent.clone(),
                    });
                    match table(&cvals, &format!("{}.{child}", r.name)) {
                        Some(vv) => coalesce_tables(&mut b, path_to_map(parent, vv.clone()), true),
                        None => tracing::warn!(chart = %r.name, "import-values: missing table"),
                    }
                }
                ImportValue::Name(name) => {
                    let child = format!("exports.{name}");
                    outiv.push(ImportValue::Processed {
                        child: child.clone(),
                        parent: ".".into(),
                    });
                    match table(&cvals, &format!("{}.{child}", r.name)) {
                        Some(vm) => coalesce_tables(&mut b, vm.clone(), true),
                        None => tracing::warn!(chart = %r.name, "import-values: missing table"),
                    }
                }
                ImportValue::Other => {}
            }
        }
        r.import_values = outiv;
    }
    let mut merged = cvals;
    coalesce_tables(&mut merged, b, true);
    c.values = super::Values(merged);
    Ok(())
}
