//! Artifacts assembled from pieces of earlier ones: a one-file change recompresses little, the
//! bytes equal a fresh build's, and real programs (GNU tar, gzip) read the result as the tree
//! git itself checks out.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{Env, spec};
use ferry_source::artifact::archive::LARGE_FILE;
use ferry_source::{Credentials, GitReference, Outcome};
use ferry_test::git::{GitDaemon, GitWorkspace};

/// Text that compresses about as well as real manifests, different for every `seed`.
fn text(seed: usize, lines: usize) -> String {
    (0..lines)
        .map(|l| {
            format!(
                "key-{seed}-{l}: value {}\n",
                (seed * 7919 + l * 104_729) % 100_003
            )
        })
        .collect()
}

/// 2,000 small files in nested directories, a large file, an executable, an ignored file.
async fn repository() -> GitWorkspace {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    for i in 0..2000 {
        ws.write(
            &format!("apps/team{}/svc{}/cm-{i}.yaml", i % 5, i % 37),
            text(i, 8),
        )
        .expect("write");
    }
    // Four times the threshold: larger than any segment of small files can be.
    ws.write("big/data.yaml", text(100_000, LARGE_FILE * 4 / 20))
        .expect("write");
    ws.write("big/small.yaml", "small: 1\n").expect("write");
    ws.write("bin/run.sh", "#!/bin/sh\necho run\n")
        .expect("write");
    ws.write("notes.txt", "left out\n").expect("write");
    ws.write(".sourceignore", "*.txt\n").expect("write");
    ws.commit("many files").await.expect("commit");
    let script = ws.work.join("bin/run.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    ws.commit("executable").await.expect("commit");
    ws
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("program runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Regular files under `root`: path -> (content, executable).
fn tree(root: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .to_string();
                let exec = meta.permissions().mode() & 0o111 != 0;
                out.insert(rel, (std::fs::read(&path).expect("read"), exec));
            }
        }
    }
    out
}

/// The artifact unpacked by GNU tar (gzip checked by `gzip -t` first).
fn unpack_with_tar(env: &Env, outcome: &Outcome, into: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    let tarball = env.store.local_path(&outcome.artifact.path).expect("path");
    run(Command::new("gzip").arg("-t").arg(&tarball));
    std::fs::create_dir_all(into).expect("dir");
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(into));
    tree(into)
}

/// The commit as git checks it out (`git archive | tar -x`), without what Flux leaves out.
fn checked_out_by_git(ws: &GitWorkspace, into: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    std::fs::create_dir_all(into).expect("dir");
    let archive = into.with_extension("tar");
    run(Command::new("git")
        .current_dir(&ws.work)
        .args(["archive", "--format=tar", "-o"])
        .arg(&archive)
        .arg("HEAD"));
    run(Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(into));
    let mut files = tree(into);
    files.remove("notes.txt");
    files
}

#[tokio::test]
async fn a_one_file_change_recompresses_one_segment_and_equals_a_fresh_build() {
    let ws = repository().await;
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let s = spec("pieces", &daemon.url(), GitReference::default());
    let first = env.run(&s, &Credentials::none()).await.expect("first");
    let stats = first.archive.expect("a new artifact was packed");
    assert_eq!(stats.reused_pieces, 0, "nothing to reuse yet");
    assert_eq!(stats.files, 2004);
    let whole = stats.compressed_input_bytes;
    let scratch = tempfile::tempdir().expect("dir");
    assert_eq!(
        unpack_with_tar(&env, &first, &scratch.path().join("first")),
        checked_out_by_git(&ws, &scratch.path().join("git-first")),
        "the artifact is git's tree without ignored files, executable bits kept"
    );

    // A small file changes: one segment is compressed again, the rest is copied.
    ws.write("apps/team3/svc8/cm-8.yaml", "changed: true\n")
        .expect("write");
    ws.commit("one file").await.expect("commit");
    let second = env.run(&s, &Credentials::none()).await.expect("second");
    let stats = second.archive.expect("packed");
    assert!(stats.reused_pieces >= 10, "{stats:?}");
    assert_eq!(stats.compressed_pieces, 1, "one segment: {stats:?}");
    assert!(
        stats.compressed_input_bytes * 4 < whole,
        "a small part of the {whole} bytes: {stats:?}"
    );
    assert_eq!(stats.files, 2004);
    assert_eq!(
        unpack_with_tar(&env, &second, &scratch.path().join("second")),
        checked_out_by_git(&ws, &scratch.path().join("git-second"))
    );

    // The large file's neighbour changes: the large file's own piece is still copied.
    ws.write("big/small.yaml", "small: 2\n").expect("write");
    ws.commit("next to the large file").await.expect("commit");
    let third = env.run(&s, &Credentials::none()).await.expect("third");
    let stats = third.archive.expect("packed");
    assert!(
        stats.compressed_input_bytes < 4 * LARGE_FILE as u64,
        "the large file is not compressed again: {stats:?}"
    );
    assert_eq!(
        unpack_with_tar(&env, &third, &scratch.path().join("third")),
        checked_out_by_git(&ws, &scratch.path().join("git-third"))
    );

    // A store that never saw the earlier commits packs every byte itself, and gets the same
    // artifact: reuse changes the cost, never the content or the digest.
    let fresh = Env::new();
    let again = fresh.run(&s, &Credentials::none()).await.expect("fresh");
    assert_eq!(again.archive.expect("packed").reused_pieces, 0);
    assert_eq!(again.artifact.digest, third.artifact.digest);
    assert_eq!(again.artifact.size, third.artifact.size);
}

fn index_of(env: &Env, outcome: &Outcome) -> std::path::PathBuf {
    let tarball = env.store.local_path(&outcome.artifact.path).expect("path");
    let name = tarball
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    tarball.with_file_name(format!(".{name}.idx"))
}

/// A way to spoil a piece index file's bytes.
type Damage = fn(&mut Vec<u8>);

#[tokio::test]
async fn a_damaged_or_missing_piece_index_only_costs_reuse() {
    let ws = repository().await;
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let s = spec("damaged", &daemon.url(), GitReference::default());
    let mut previous = env.run(&s, &Credentials::none()).await.expect("first");
    let damages: [(&str, Damage); 3] = [
        ("one bit flipped", |b| {
            let middle = b.len() / 2;
            b[middle] ^= 0x04;
        }),
        ("truncated", |b| b.truncate(b.len() / 2)),
        ("emptied", |b| b.clear()),
    ];
    for (i, (what, damage)) in damages.into_iter().enumerate() {
        let index = index_of(&env, &previous);
        let mut bytes = std::fs::read(&index).expect("the store keeps a piece index");
        damage(&mut bytes);
        std::fs::write(&index, &bytes).expect("damage");
        ws.write("apps/team0/svc0/cm-0.yaml", format!("changed: {i}\n"))
            .expect("write");
        ws.commit(what).await.expect("commit");
        // The only other retained artifact's index was damaged in the round before.
        let next = env.run(&s, &Credentials::none()).await.expect(what);
        let stats = next.archive.expect("packed");
        assert_eq!(stats.reused_pieces, 0, "{what}: {stats:?}");
        let fresh = Env::new()
            .run(&s, &Credentials::none())
            .await
            .expect("fresh");
        assert_eq!(next.artifact.digest, fresh.artifact.digest, "{what}");
        previous = next;
    }
    // With the index gone, the artifact is whole and right.
    std::fs::remove_file(index_of(&env, &previous)).expect("remove");
    ws.write("apps/team0/svc0/cm-0.yaml", "changed: last\n")
        .expect("write");
    ws.commit("last").await.expect("commit");
    let last = env.run(&s, &Credentials::none()).await.expect("last");
    let scratch = tempfile::tempdir().expect("dir");
    assert_eq!(
        unpack_with_tar(&env, &last, &scratch.path().join("last")),
        checked_out_by_git(&ws, &scratch.path().join("git"))
    );
}
