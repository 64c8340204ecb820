#![allow(clippy::unwrap_used)]
//! Server-side apply and managed fields: facts from the Kubernetes documentation and
//! structured-merge-diff's behaviour (field sets, conflicts, force, removal of omitted fields).

use ferry_schema::{
    Registry,
    ssa::{FieldSet, Request, SsaError, apply, record_update},
};
use serde_json::{Value, json};

fn req<'a>(manager: &'a str) -> Request<'a> {
    Request {
        manager,
        subresource: None,
        api_version: "apps/v1",
        now: "2026-01-01T00:00:00Z",
        status_subresource: true,
    }
}

fn deployment(replicas: u32, labels: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}
        }
    })
}

fn entry<'a>(obj: &'a Value, manager: &str) -> &'a Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == manager)
        .unwrap()
}

#[test]
fn apply_records_the_fields_the_configuration_sets() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let out = apply(
        None,
        &deployment(2, json!({"app": "nginx"})),
        &req("kubectl"),
        false,
        Some(ts.root()),
    )
    .unwrap();
    let e = entry(&out, "kubectl");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert_eq!(e["apiVersion"], "apps/v1");
    // What `kubectl apply --server-side` shows for this manifest.
    assert_eq!(
        e["fieldsV1"],
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}}}
                }
            }
        })
    );
    assert_eq!(out["spec"]["replicas"], 2);
}

#[test]
fn conflicts_force_and_shared_ownership() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let s = Some(ts.root());
    // Created by client-side apply (an Update), then scaled by server-side apply.
    let mut live = deployment(1, json!({"app": "nginx"}));
    record_update(None, &mut live, &req("kubectl-client-side-apply"), s).unwrap();
    let err = apply(
        Some(&live),
        &deployment(3, json!({"app": "nginx"})),
        &req("kubectl"),
        false,
        s,
    )
    .unwrap_err();
    let SsaError::Conflicts(c) = err else {
        panic!("expected conflicts")
    };
    assert_eq!(
        c.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    assert_eq!(
        c.causes()[0],
        json!({"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-client-side-apply\" using apps/v1", "field": ".spec.replicas"}),
        "metav1.StatusCause names the cause type `reason`"
    );
    // Same values: shared ownership, no conflict.
    let shared = apply(
        Some(&live),
        &deployment(1, json!({"app": "nginx"})),
        &req("kubectl"),
        false,
        s,
    )
    .unwrap();
    let csa =
        FieldSet::from_fields_v1(&entry(&shared, "kubectl-client-side-apply")["fieldsV1"]).unwrap();
    assert!(csa.contains(&[
        ferry_schema::ssa::PathElement::Field("spec".into()),
        ferry_schema::ssa::PathElement::Field("replicas".into())
    ]));
    // Force: the value changes and ownership moves.
    let forced = apply(
        Some(&live),
        &deployment(3, json!({"app": "nginx"})),
        &req("kubectl"),
        true,
        s,
    )
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    let csa = entry(&forced, "kubectl-client-side-apply");
    assert!(
        csa["fieldsV1"]["f:spec"].get("f:replicas").is_none(),
        "{csa}"
    );
    assert!(
        entry(&forced, "kubectl")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_some()
    );
    // Two conflicting fields from one manager.
    let mut two = deployment(3, json!({"app": "nginx"}));
    two["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    let SsaError::Conflicts(c) = apply(Some(&live), &two, &req("kubectl"), false, s).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        c.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image"
    );
}

#[test]
fn fields_the_applier_drops_are_removed_unless_someone_else_owns_them() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let s = Some(ts.root());
    let first = apply(
        None,
        &deployment(1, json!({"app": "nginx", "tier": "web", "team": "a"})),
        &req("kubectl"),
        false,
        s,
    )
    .unwrap();
    // Another manager sets `team` to the same value: co-owned.
    let other = apply(Some(&first), &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx", "labels": {"team": "a"}}}), &req("helm"), false, s).unwrap();
    let next = apply(
        Some(&other),
        &deployment(1, json!({"app": "nginx"})),
        &req("kubectl"),
        false,
        s,
    )
    .unwrap();
    assert_eq!(
        next["metadata"]["labels"],
        json!({"app": "nginx", "team": "a"})
    );
    // A container removed from the configuration goes too.
    let mut two = deployment(1, json!({"app": "nginx"}));
    two["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "nginx", "image": "nginx:1.27"}, {"name": "side", "image": "busybox"}]);
    let with_side = apply(Some(&next), &two, &req("kubectl"), false, s).unwrap();
    assert_eq!(
        with_side["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let without = apply(
        Some(&with_side),
        &deployment(1, json!({"app": "nginx"})),
        &req("kubectl"),
        false,
        s,
    )
    .unwrap();
    assert_eq!(
        without["spec"]["template"]["spec"]["containers"],
        json!([{"name": "nginx", "image": "nginx:1.27"}])
    );
}

/// kubectl's client-side to server-side migration copies the Update entry of
/// `kubectl-client-side-apply` into kubectl's Apply entry, `"."` markers of new maps included.
/// The next apply omits those markers (its own field set never has them for maps with
/// children): a map whose children someone still owns stays, with only the children nobody
/// owns any more removed; a map nothing below is owned in goes entirely.
#[test]
fn dropped_dot_markers_keep_maps_whose_children_are_still_owned() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let s = Some(ts.root());
    let mut live = deployment(1, json!({"app": "nginx", "tier": "web", "team": "a"}));
    live["metadata"]["annotations"] = json!({"note": "x"});
    live["metadata"]["managedFields"] = json!([
        {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": "2026-01-01T00:00:00Z",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {
            "f:annotations": {".": {}, "f:note": {}},
            "f:labels": {".": {}, "f:app": {}, "f:tier": {}}}}},
        {"manager": "helm", "operation": "Update", "apiVersion": "apps/v1", "time": "2026-01-01T00:00:00Z",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}}}
    ]);
    let mut applied = deployment(1, json!({"app": "nginx"}));
    applied["spec"] = json!({"replicas": 1});
    let next = apply(Some(&live), &applied, &req("kubectl"), false, s).unwrap();
    // `tier` was only kubectl's: gone. `app` is still applied, `team` is helm's: the map stays.
    assert_eq!(
        next["metadata"]["labels"],
        json!({"app": "nginx", "team": "a"})
    );
    // Nothing below `annotations` is owned any more: the whole map goes.
    assert!(
        next["metadata"].get("annotations").is_none(),
        "{}",
        next["metadata"]
    );
    // A map nobody applies any more but another manager owns a child of stays, with that
    // child only.
    let mut only_team = applied.clone();
    only_team["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("labels");
    let last = apply(Some(&next), &only_team, &req("kubectl"), false, s).unwrap();
    assert_eq!(last["metadata"]["labels"], json!({"team": "a"}));
}

#[test]
fn updates_record_changed_fields_with_dots_for_new_maps_and_items() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let s = Some(ts.root());
    let mut obj = deployment(1, json!({"app": "nginx"}));
    record_update(None, &mut obj, &req("kubectl-create"), s).unwrap();
    let e = entry(&obj, "kubectl-create");
    assert_eq!(e["operation"], "Update");
    let f = &e["fieldsV1"];
    assert_eq!(f["f:metadata"]["f:labels"], json!({".": {}, "f:app": {}}));
    assert_eq!(
        f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"],
        json!({".": {}, "f:image": {}, "f:name": {}})
    );
    assert!(
        f["f:spec"].get(".").is_none(),
        "struct fields the server always has get no dot"
    );
    // A later update by another manager takes the fields it changes.
    let mut scaled = obj.clone();
    scaled["spec"]["replicas"] = json!(5);
    record_update(Some(&obj), &mut scaled, &req("kubectl-scale"), s).unwrap();
    assert_eq!(
        entry(&scaled, "kubectl-scale")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(
        entry(&scaled, "kubectl-create")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    // Entries are ordered as the server orders them (operation, time, manager).
    let managers: Vec<&str> = scaled["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["kubectl-create", "kubectl-scale"]);
}

#[test]
fn objects_without_managed_fields_belong_to_before_first_apply() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let s = Some(ts.root());
    let live = deployment(1, json!({"app": "nginx"}));
    let SsaError::Conflicts(c) = apply(
        Some(&live),
        &deployment(4, json!({"app": "nginx"})),
        &req("kubectl"),
        false,
        s,
    )
    .unwrap_err() else {
        panic!()
    };
    assert_eq!(c.conflicts[0].manager_name, "before-first-apply");
}

#[test]
fn fields_v1_round_trips() {
    let v = json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}, "f:finalizers": {"v:\"a\"": {}}}});
    let set = FieldSet::from_fields_v1(&v).unwrap();
    assert_eq!(set.to_fields_v1(), v);
    assert!(FieldSet::from_fields_v1(&json!({"x:1": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!([1])).is_err());
}

/// A key field the configuration omits takes the schema's default (structured-merge-diff's
/// `getAssociativeKeyDefault`): `{containerPort: 80}` is the port the server defaulted to
/// `{containerPort: 80, protocol: TCP}`, so re-applying it changes nothing instead of adding
/// a second port, and the managed-fields key names the protocol as kube-apiserver's does.
#[test]
fn omitted_list_map_keys_take_their_schema_default() {
    let reg = Registry::builtin();
    let ts = reg.lookup("apps/v1", "Deployment").unwrap();
    let s = Some(ts.root());
    let mut config = deployment(1, json!({"app": "nginx"}));
    config["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
    let mut live = apply(None, &config, &req("ferry"), false, s).unwrap();
    // What the server's defaulting adds after the merge.
    live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("TCP");

    let again = apply(Some(&live), &config, &req("ferry"), false, s).unwrap();
    assert_eq!(
        again["spec"]["template"]["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    let containers = &entry(&again, "ferry")["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ["k:{\"name\":\"nginx\"}"];
    assert_eq!(
        containers["f:ports"],
        json!({"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}})
    );
}
