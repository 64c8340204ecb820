//! The proof: a repository of 10,000 files and 1,000 commits served by `git daemon` on
//! loopback. Measured in the same run, against the git CLI doing the same job:
//! - first fetch + artifact: ferry vs `git clone --depth 1` + `tar czf` (without .git);
//! - one-file change picked up: ferry vs `git fetch --depth 1` + `git checkout` + `tar czf`.
//!
//! Goal: the one-file change in <= 200 ms and no slower than git + tar.
//! Run: `cargo bench -p ferry-source --bench git_fetch`.
#![allow(clippy::print_stdout)]

use std::io::Write;

use sha2::Digest;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferry_source::{
    ArtifactStore, Credentials, GitCache, GitReference, GitSpec, ObjectKey, reconcile_git_blocking,
};
use ferry_test::git::GitDaemon;

const FILES: usize = 10_000;
const COMMITS: usize = 1_000;
const CHANGES: usize = 7;

fn file_path(i: usize) -> String {
    format!(
        "apps/team{:02}/svc{:03}/config-{i:05}.yaml",
        i % 25,
        (i / 25) % 400
    )
}

fn file_content(i: usize, version: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{i:05}\n  namespace: team{:02}\ndata:\n  version: \"{version}\"\n  owner: team{:02}\n",
        i % 25,
        i % 25
    )
}

/// Writes commits with `git fast-import` (10,000 files in the first, one file changed in each
/// following one).
fn fast_import(bare: &Path, first_commit: usize, commits: usize, parent: bool) {
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(bare)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut stream = std::io::BufWriter::new(child.stdin.take().expect("stdin"));
    for n in first_commit..first_commit + commits {
        let msg = format!("commit {n}");
        writeln!(stream, "commit refs/heads/master").expect("write");
        writeln!(
            stream,
            "committer Bench <bench@ferry.invalid> {} +0000",
            1_700_000_000 + n
        )
        .expect("write");
        writeln!(stream, "data {}\n{msg}", msg.len()).expect("write");
        if n == 0 {
            for i in 0..FILES {
                let content = file_content(i, 0);
                writeln!(
                    stream,
                    "M 100644 inline {}\ndata {}\n{content}",
                    file_path(i),
                    content.len()
                )
                .expect("write");
            }
        } else {
            if n == first_commit && parent {
                writeln!(stream, "from refs/heads/master^0").expect("write");
            }
            let i = (n * 7919) % FILES;
            let content = file_content(i, n);
            writeln!(
                stream,
                "M 100644 inline {}\ndata {}\n{content}",
                file_path(i),
                content.len()
            )
            .expect("write");
        }
        writeln!(stream).expect("write");
    }
    drop(stream);
    assert!(
        child.wait().expect("fast-import").success(),
        "fast-import failed"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?} failed");
}

fn tar_czf(dir: &Path, out: &Path) {
    let status = Command::new("tar")
        .arg("--exclude=.git")
        .arg("-czf")
        .arg(out)
        .arg("-C")
        .arg(dir)
        .arg(".")
        .status()
        .expect("tar");
    assert!(status.success(), "tar failed");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let bare = dir.path().join("bench.git");
    git(
        dir.path(),
        &["init", "-q", "--bare", "-b", "master", "bench.git"],
    );
    let t = Instant::now();
    fast_import(&bare, 0, COMMITS, false);
    git(&bare, &["repack", "-adq"]);
    println!(
        "repository: {FILES} files, {COMMITS} commits (built in {:.0} ms)",
        ms(t.elapsed())
    );
    let daemon = rt.block_on(GitDaemon::start(&bare)).expect("git daemon");
    let url = daemon.url();

    // ferry: first fetch + artifact.
    let store = ArtifactStore::new(dir.path().join("store"), "http://127.0.0.1:9090");
    let cache = GitCache::new(dir.path().join("cache"));
    let mut spec = GitSpec::new(ObjectKey::git_repository("bench", "repo"), &url);
    spec.reference = GitReference::branch("master");
    let creds = Credentials::none();
    let t = Instant::now();
    let first = reconcile_git_blocking(&spec, &creds, &store, &cache).expect("ferry first fetch");
    let ferry_first = t.elapsed();

    // git: shallow clone + tar.
    let clone = dir.path().join("clone");
    let peer_tar = dir.path().join("peer.tar.gz");
    let t = Instant::now();
    git(
        dir.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "master", &url, "clone",
        ],
    );
    tar_czf(&clone, &peer_tar);
    let git_first = t.elapsed();

    let no_change = {
        let t = Instant::now();
        let out = reconcile_git_blocking(&spec, &creds, &store, &cache).expect("ferry no-change");
        assert!(!out.changed);
        t.elapsed()
    };

    // One-file changes, alternating who goes first to share any cache warmth fairly.
    let (mut ferry_change, mut git_change) = (Vec::new(), Vec::new());
    let mut last = first.artifact.clone();
    for k in 0..CHANGES {
        fast_import(&bare, COMMITS + k, 1, true);
        let run_ferry = |last: &mut ferry_source::Artifact| {
            let t = Instant::now();
            let out = reconcile_git_blocking(&spec, &creds, &store, &cache).expect("ferry change");
            let d = t.elapsed();
            assert!(
                out.changed && out.artifact.revision != last.revision,
                "a new revision was packed"
            );
            assert!(
                out.fetch.received_objects <= 10,
                "incremental: {:?}",
                out.fetch
            );
            *last = out.artifact;
            d
        };
        let run_git = || {
            let t = Instant::now();
            git(&clone, &["fetch", "-q", "--depth", "1", "origin", "master"]);
            git(&clone, &["checkout", "-q", "FETCH_HEAD"]);
            tar_czf(&clone, &peer_tar);
            t.elapsed()
        };
        if k % 2 == 0 {
            ferry_change.push(run_ferry(&mut last));
            git_change.push(run_git());
        } else {
            git_change.push(run_git());
            ferry_change.push(run_ferry(&mut last));
        }
    }
    let (ferry_change, git_change) = (median(ferry_change), median(git_change));
    let peer_size = std::fs::metadata(&peer_tar).map(|m| m.len()).unwrap_or(0);

    println!(
        "first fetch + artifact : ferry {:>7.1} ms | git clone --depth 1 + tar czf {:>7.1} ms | ratio {:.2}",
        ms(ferry_first),
        ms(git_first),
        ms(ferry_first) / ms(git_first)
    );
    println!(
        "one-file change (median of {CHANGES}): ferry {:>7.1} ms | git fetch + checkout + tar czf {:>7.1} ms | ratio {:.2} | goal <= 200 ms: {}",
        ms(ferry_change),
        ms(git_change),
        ms(ferry_change) / ms(git_change),
        if ms(ferry_change) <= 200.0 && ferry_change <= git_change {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "no change              : ferry {:>7.1} ms (ls-remote, artifact reused)",
        ms(no_change)
    );
    println!(
        "artifact size          : ferry {} bytes | tar czf {} bytes",
        last.size, peer_size
    );
    fast_import(&bare, COMMITS + CHANGES, 1, true);
    breakdown(&spec, &store, &cache);

    // A long-running controller: many more changes into the same cache (one pack per fetch).
    let more: usize = std::env::var("FERRY_BENCH_MORE_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if more > 0 {
        let mut times = Vec::new();
        for k in 0..more {
            fast_import(&bare, COMMITS + CHANGES + 1 + k, 1, true);
            let t = Instant::now();
            reconcile_git_blocking(&spec, &creds, &store, &cache).expect("ferry change");
            times.push(t.elapsed());
        }
        let tail: Vec<Duration> = times[times.len().saturating_sub(10)..].to_vec();
        let head: Vec<Duration> = times[..times.len().min(10)].to_vec();
        println!(
            "after {more} more changes: first ten median {:.1} ms | last ten median {:.1} ms",
            ms(median(head)),
            ms(median(tail))
        );
    }
}

/// Where the time of a one-file change goes: each phase of `reconcile_git` run on its own.
fn breakdown(spec: &GitSpec, store: &ArtifactStore, cache: &GitCache) {
    use ferry_source::artifact::archive::write_tree_archive;
    use ferry_source::artifact::reuse::Reusable;
    use ferry_source::git::{RepoUrl, fetch, transport};

    let url = RepoUrl::parse(&spec.url).expect("url");
    let creds = Credentials::none();
    let redactor = ferry_source::redact::Redactor::default();
    let session =
        transport::Session::new(&url, &creds, &redactor, spec.timeout, u64::MAX).expect("session");
    let checkout = spec.reference.checkout();
    cache
        .with_repo(&url.redacted(), spec.timeout, |cached| {
            let t = Instant::now();
            let resolved = fetch::fetch(cached, &session, &checkout)?;
            let fetch_time = t.elapsed();
            let repo = &cached.repo;
            let archive = |reuse: &Reusable| {
                let t = Instant::now();
                let out = write_tree_archive(repo, resolved.commit, None, &[], reuse, Vec::new())
                    .expect("archive");
                (t.elapsed(), out)
            };
            let (cold, cold_out) = archive(&Reusable::default());
            let t = Instant::now();
            let reuse = store.reusable(&spec.object);
            let load = t.elapsed();
            let (warm, warm_out) = archive(&reuse);
            let t = Instant::now();
            let digest = sha2::Sha256::digest(&warm_out.writer);
            let hash = t.elapsed();
            let t = Instant::now();
            let mut writer = store.create(&spec.object, u64::MAX)?;
            writer.write_all(&warm_out.writer).expect("write");
            writer.set_piece_index(warm_out.index);
            store.commit(
                &spec.object,
                writer,
                "breakdown.tar.gz",
                "breakdown",
                "breakdown",
                Default::default(),
            )?;
            let commit = t.elapsed();
            println!(
                "breakdown of one change: fetch {:.1} ms | archive without reuse {:.1} ms ({} pieces, {} bytes) | load piece indexes {:.1} ms | archive with reuse {:.1} ms ({} reused, {} compressed) | sha256 {:.1} ms ({}) | store write+fsync+rename+gc {:.1} ms",
                ms(fetch_time),
                ms(cold),
                cold_out.stats.compressed_pieces,
                cold_out.writer.len(),
                ms(load),
                ms(warm),
                warm_out.stats.reused_pieces,
                warm_out.stats.compressed_pieces,
                ms(hash),
                &hex::encode(digest)[..8],
                ms(commit),
            );
            Ok(())
        })
        .expect("breakdown");
}
