//! Every `spec.ref` kind and Flux's revision format, incremental fetches, ignore rules,
//! includes and garbage collection, against `git daemon` on loopback.

mod common;

use common::{Env, http_get, spec};
use ferry_source::git::Include;
use ferry_source::{ArtifactStore, Credentials, GitReference};
use ferry_test::git::{GitDaemon, GitWorkspace};

#[tokio::test]
async fn each_ref_kind_and_its_revision() {
    let ws = GitWorkspace::new("main").await.expect("workspace");
    ws.write("a.txt", "1").expect("write");
    let c1 = ws.commit("one").await.expect("commit");
    ws.tag("v1.0.0", Some("release 1.0.0"))
        .await
        .expect("annotated tag");
    ws.write("a.txt", "2").expect("write");
    let c2 = ws.commit("two").await.expect("commit");
    ws.tag("v1.2.0", None).await.expect("lightweight tag");
    ws.push_ref("refs/pull/1/head").await.expect("pull ref");
    ws.write("a.txt", "3").expect("write");
    let c3 = ws.commit("three").await.expect("commit");
    ws.tag("v2.0.0", None).await.expect("tag");

    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let none = Credentials::none();
    let run = |name: &str, r: GitReference| {
        let s = spec(name, &daemon.url(), r);
        let env = &env;
        let none = &none;
        async move { env.run(&s, none).await }
    };

    let out = run("branch", GitReference::branch("main"))
        .await
        .expect("branch");
    assert_eq!(out.artifact.revision, format!("main@sha1:{c3}"));
    assert_eq!(env.files(&out)["a.txt"], b"3");

    let out = run("tag", GitReference::tag("v1.0.0"))
        .await
        .expect("annotated tag");
    assert_eq!(
        out.artifact.revision,
        format!("v1.0.0@sha1:{c1}"),
        "the commit, not the tag object"
    );
    assert_eq!(env.files(&out)["a.txt"], b"1");

    let out = run("semver", GitReference::semver(">=1.0.0 <2.0.0"))
        .await
        .expect("semver");
    assert_eq!(out.artifact.revision, format!("v1.2.0@sha1:{c2}"));

    let out = run("name", GitReference::name("refs/pull/1/head"))
        .await
        .expect("name");
    assert_eq!(out.artifact.revision, format!("refs/pull/1/head@sha1:{c2}"));

    let out = run("commit", GitReference::commit(&c1))
        .await
        .expect("bare commit");
    assert_eq!(out.artifact.revision, format!("sha1:{c1}"));
    assert_eq!(env.files(&out)["a.txt"], b"1");

    let commit_on_branch = GitReference {
        branch: Some("main".into()),
        commit: Some(c2.clone()),
        ..Default::default()
    };
    let out = run("commit-branch", commit_on_branch)
        .await
        .expect("commit with branch");
    assert_eq!(out.artifact.revision, format!("main@sha1:{c2}"));

    // Precedence: name beats semver, tag and branch.
    let several = GitReference {
        branch: Some("main".into()),
        tag: Some("v1.0.0".into()),
        semver: Some("*".into()),
        name: Some("refs/pull/1/head".into()),
        commit: None,
    };
    let out = run("several", several).await.expect("precedence");
    assert_eq!(out.artifact.revision, format!("refs/pull/1/head@sha1:{c2}"));

    let err = run("nomatch", GitReference::semver(">=3"))
        .await
        .expect_err("no tag matches");
    assert!(err.to_string().contains(">=3"), "{err}");
    let err = run(
        "badcommit",
        GitReference::commit("0123456789012345678901234567890123456789"),
    )
    .await
    .expect_err("unknown commit");
    assert!(
        matches!(err, ferry_source::SourceError::RefNotFound { .. }),
        "{err:?}"
    );
    let err = run("shortcommit", GitReference::commit("abc"))
        .await
        .expect_err("short sha");
    assert!(err.is_terminal());
}

#[tokio::test]
async fn default_branch_is_master() {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    ws.write("x", "x").expect("write");
    let sha = ws.commit("x").await.expect("commit");
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let out = env
        .run(
            &spec("default", &daemon.url(), GitReference::default()),
            &Credentials::none(),
        )
        .await
        .expect("fetch");
    assert_eq!(out.artifact.revision, format!("master@sha1:{sha}"));
}

#[tokio::test]
async fn a_new_commit_fetches_only_new_objects_and_no_change_fetches_nothing() {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    for i in 0..200 {
        ws.write(
            &format!("dir{}/file{i}.yaml", i % 10),
            format!("value: {i}\n"),
        )
        .expect("write");
    }
    ws.commit("many files").await.expect("commit");
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let s = spec("incremental", &daemon.url(), GitReference::default());

    let first = env
        .run(&s, &Credentials::none())
        .await
        .expect("first fetch");
    assert!(
        first.fetch.received_objects >= 211,
        "blobs, trees and the commit: {:?}",
        first.fetch
    );

    let again = env.run(&s, &Credentials::none()).await.expect("no change");
    assert!(
        !again.changed,
        "same commit, same config: the stored artifact is reused"
    );
    assert_eq!(again.artifact, first.artifact);
    assert_eq!(again.fetch.received_objects, 0, "{:?}", again.fetch);

    ws.write("dir3/file3.yaml", "value: changed\n")
        .expect("write");
    let sha = ws.commit("one file").await.expect("commit");
    let second = env
        .run(&s, &Credentials::none())
        .await
        .expect("incremental fetch");
    assert_eq!(second.artifact.revision, format!("master@sha1:{sha}"));
    // The commit, the root tree, dir3's tree and one blob.
    assert!(
        second.fetch.received_objects <= 4,
        "only new objects: {:?}",
        second.fetch
    );
    assert_eq!(env.files(&second)["dir3/file3.yaml"], b"value: changed\n");
    assert_eq!(env.files(&second).len(), 200);
}

#[tokio::test]
async fn ignore_rules_defaults_sourceignore_and_spec_ignore() {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    for (path, content) in [
        ("apps/app.yaml", "a"),
        ("apps/notes.txt", "n"),
        ("apps/.sourceignore", "*.txt\n"),
        ("docs/guide.md", "g"),
        ("docs/keep.md", "k"),
        (".sourceignore", "docs/*.md\n!docs/keep.md\n"),
        (".github/workflows/ci.yaml", "ci"),
        (".gitignore", "x"),
        ("logo.png", "png"),
        ("charts/pkg.tar.gz", "tgz"),
        ("secrets/key.yaml", "s"),
        (".sops.yaml", "sops"),
        ("top.txt", "t"),
    ] {
        ws.write(path, content).expect("write");
    }
    ws.commit("layout").await.expect("commit");
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();

    let out = env
        .run(
            &spec("ignore", &daemon.url(), GitReference::default()),
            &Credentials::none(),
        )
        .await
        .expect("fetch");
    let files: Vec<String> = env.files(&out).into_keys().collect();
    assert_eq!(
        files,
        [
            ".sourceignore",
            "apps/.sourceignore",
            "apps/app.yaml",
            "docs/keep.md",
            "secrets/key.yaml",
            "top.txt"
        ],
        "defaults and both .sourceignore files applied"
    );

    let mut s = spec("ignore-spec", &daemon.url(), GitReference::default());
    s.ignore = Some("secrets/\n!*.png\n".into());
    let out = env
        .run(&s, &Credentials::none())
        .await
        .expect("fetch with spec.ignore");
    let files: Vec<String> = env.files(&out).into_keys().collect();
    assert!(
        files.contains(&"logo.png".to_string()),
        "spec.ignore re-includes a default exclusion: {files:?}"
    );
    assert!(
        !files.iter().any(|f| f.starts_with("secrets/")),
        "{files:?}"
    );

    // Changing spec.ignore re-archives the same commit.
    s.ignore = Some("secrets/\n".into());
    let again = env
        .run(&s, &Credentials::none())
        .await
        .expect("fetch with new ignore");
    assert!(again.changed);
    assert!(!env.files(&again).contains_key("logo.png"));
}

#[tokio::test]
async fn include_copies_another_artifact_into_a_sub_path() {
    let lib = GitWorkspace::new("master").await.expect("lib workspace");
    lib.write("base/cm.yaml", "lib").expect("write");
    lib.write("other/skip.yaml", "skip").expect("write");
    lib.commit("lib").await.expect("commit");
    let app = GitWorkspace::new("master").await.expect("app workspace");
    app.write("app.yaml", "app").expect("write");
    app.write("vendor/old.yaml", "replaced").expect("write");
    app.commit("app").await.expect("commit");
    let (lib_daemon, app_daemon) = (
        GitDaemon::start(&lib.bare).await.expect("daemon"),
        GitDaemon::start(&app.bare).await.expect("daemon"),
    );
    let env = Env::new();
    let lib_out = env
        .run(
            &spec("lib", &lib_daemon.url(), GitReference::default()),
            &Credentials::none(),
        )
        .await
        .expect("lib");

    let mut s = spec("app", &app_daemon.url(), GitReference::default());
    s.include = vec![Include {
        name: "lib".into(),
        artifact: lib_out.artifact.clone(),
        from_path: Some("base".into()),
        to_path: Some("vendor".into()),
    }];
    let out = env
        .run(&s, &Credentials::none())
        .await
        .expect("app with include");
    let files = env.files(&out);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["app.yaml", "vendor/cm.yaml"]
    );
    assert_eq!(out.included, vec![lib_out.artifact.clone()]);

    let mut missing = s.clone();
    missing.include[0].artifact.path = "gitrepository/default/gone/x.tar.gz".into();
    let err = env
        .run(&missing, &Credentials::none())
        .await
        .expect_err("missing include");
    assert_eq!(err.reason(), "IncludeUnavailable");
}

#[tokio::test]
async fn store_keeps_the_last_n_and_serves_them_over_http() {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let dir = tempfile::tempdir().expect("dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let store = ArtifactStore::new(dir.path().join("store"), base).with_retention(2);
    tokio::spawn(ferry_source::artifact::server::serve(
        store.root().to_path_buf(),
        listener,
    ));
    let env = Env::with_store(store, dir);
    let s = spec("gc", &daemon.url(), GitReference::default());

    let mut artifacts = Vec::new();
    for i in 0..3 {
        ws.write("f", i.to_string()).expect("write");
        ws.commit(&format!("c{i}")).await.expect("commit");
        artifacts.push(
            env.run(&s, &Credentials::none())
                .await
                .expect("fetch")
                .artifact,
        );
    }
    let exists =
        |a: &ferry_source::Artifact| env.store.local_path(&a.path).expect("path").is_file();
    assert!(!exists(&artifacts[0]), "the oldest is collected");
    assert!(exists(&artifacts[1]) && exists(&artifacts[2]));
    // Its metadata and piece index go with it: only the kept artifacts' remain.
    let object_dir = env
        .store
        .local_path(&artifacts[2].path)
        .expect("path")
        .parent()
        .expect("object dir")
        .to_path_buf();
    let mut names: Vec<String> = std::fs::read_dir(&object_dir)
        .expect("object dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut expected: Vec<String> = artifacts[1..]
        .iter()
        .flat_map(|a| {
            let file = a.path.rsplit('/').next().expect("file name").to_string();
            [format!(".{file}.idx"), format!(".{file}.json"), file]
        })
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    let (status, body) = http_get(&artifacts[2].url).await;
    assert_eq!(status, 200);
    assert_eq!(body.len() as u64, artifacts[2].size);
    use sha2::Digest;
    assert_eq!(
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body))),
        artifacts[2].digest
    );
    let (status, _) = http_get(&artifacts[0].url).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_first_fetch_is_shallow_and_later_ones_fetch_only_new_commits() {
    let ws = GitWorkspace::new("master").await.expect("workspace");
    for i in 0..30 {
        ws.write("history.yaml", format!("step: {i}\n"))
            .expect("write");
        ws.commit(&format!("step {i}")).await.expect("commit");
    }
    let daemon = GitDaemon::start(&ws.bare).await.expect("daemon");
    let env = Env::new();
    let s = spec("shallow", &daemon.url(), GitReference::default());
    let first = env.run(&s, &Credentials::none()).await.expect("first");
    // One commit, its root tree and its blob: none of the 29 earlier commits.
    assert_eq!(first.fetch.received_objects, 3, "{:?}", first.fetch);
    let cache_dir = env
        .cache
        .dir_for(&ferry_source::redact::redact_url(&daemon.url()));
    let cached = git2::Repository::open_bare(&cache_dir).expect("cache repository");
    assert!(cached.is_shallow(), "the object cache is shallow");
    let count = |repo: &git2::Repository| {
        let mut walk = repo.revwalk().expect("revwalk");
        walk.push_ref("refs/heads/master").expect("branch cached");
        walk.count()
    };
    assert_eq!(count(&cached), 1);

    for i in 30..33 {
        ws.write("history.yaml", format!("step: {i}\n"))
            .expect("write");
        ws.commit(&format!("step {i}")).await.expect("commit");
    }
    let next = env.run(&s, &Credentials::none()).await.expect("next");
    assert_eq!(
        next.fetch.received_objects, 9,
        "three new commits with their tree and blob: {:?}",
        next.fetch
    );
    let cached = git2::Repository::open_bare(&cache_dir).expect("cache repository");
    assert_eq!(
        count(&cached),
        4,
        "the new commits on top of the shallow one"
    );
    assert_eq!(env.files(&next)["history.yaml"], b"step: 32\n");
}
