//! Generates the table of embedded OpenAPI v3 documents from the files in data/openapi/v3,
//! so adding or removing a group-version file needs no code change.

use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("data/openapi/v3");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<(String, PathBuf)> = fs::read_dir(&dir)
        .expect("data/openapi/v3 is part of the crate")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix("_openapi.json.gz")?
                .to_owned();
            // File names follow upstream: `api__v1`, `apis__apps__v1` for `api/v1`, `apis/apps/v1`.
            Some((name.replace("__", "/"), path))
        })
        .collect();
    entries.sort();
    let mut table = String::from("&[\n");
    for (served_path, file) in &entries {
        table.push_str(&format!(
            "    ({served_path:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    table.push_str("]\n");
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("openapi_v3_table.rs");
    fs::write(out, table).expect("OUT_DIR is writable");
}
