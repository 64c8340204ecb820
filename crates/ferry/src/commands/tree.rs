//! `ferry tree kustomization NAME`: the objects a Kustomization applied (its inventory) as a
//! tree, recursing into the Kustomizations among them, as `flux tree kustomization` prints it.
//! `-o json|yaml` gives the same tree as data, in flux's shape.

use std::{collections::BTreeSet, process::ExitCode};

use anyhow::Context as _;
use ferry_api::{Kustomization, ObjMetadata, keys};
use kube::{Api, Client};
use serde_json::{Value, json};

use super::cluster_args::{ClusterArgs, block_on};

/// How deep Kustomizations applying Kustomizations are followed (a bound on what a cluster can
/// make us fetch; real trees are a few levels deep).
const MAX_DEPTH: usize = 32;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// The inventory of a Kustomization.
    #[command(alias = "ks")]
    Kustomization {
        name: String,
        /// Show only Flux objects (Kustomizations, sources, HelmReleases).
        #[arg(long)]
        compact: bool,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Tree)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    Tree,
    Json,
    Yaml,
}

/// One object and what it applied.
#[derive(Debug)]
struct Node {
    object: ObjMetadata,
    children: Vec<Node>,
}

impl Node {
    /// flux's JSON shape: `{"resource": ObjMetadata, "resources": [...]}` with Go's field names.
    fn to_json(&self) -> Value {
        let mut node = json!({
            "resource": {
                "Namespace": self.object.namespace,
                "Name": self.object.name,
                "GroupKind": {"Group": self.object.group, "Kind": self.object.kind},
            }
        });
        if !self.children.is_empty() {
            node["resources"] = Value::Array(self.children.iter().map(Node::to_json).collect());
        }
        node
    }
}

fn is_kustomization(meta: &ObjMetadata) -> bool {
    meta.group == keys::KUSTOMIZE_GROUP && meta.kind == "Kustomization"
}

fn is_flux_object(meta: &ObjMetadata) -> bool {
    meta.group.ends_with(".toolkit.fluxcd.io")
}

/// Reads a Kustomization's inventory, `None` when the Kustomization does not exist.
async fn inventory(
    client: &Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Option<Vec<ObjMetadata>>> {
    let api: Api<Kustomization> = Api::namespaced(client.clone(), namespace);
    let Some(ks) = api
        .get_opt(name)
        .await
        .with_context(|| format!("reading Kustomization {namespace}/{name}"))?
    else {
        return Ok(None);
    };
    let entries = match ks.status.and_then(|s| s.inventory) {
        Some(inv) => inv
            .objects()
            .with_context(|| format!("Kustomization {namespace}/{name}"))?
            .into_iter()
            .map(|(meta, _)| meta)
            .collect(),
        None => Vec::new(),
    };
    Ok(Some(entries))
}

/// Builds the tree below `root`, following Kustomizations once each.
async fn grow(client: &Client, root: ObjMetadata, compact: bool) -> anyhow::Result<Node> {
    let mut seen = BTreeSet::from([root.clone()]);
    let entries = inventory(client, &root.namespace, &root.name)
        .await?
        .with_context(|| format!("Kustomization {}/{} not found", root.namespace, root.name))?;
    let mut node = Node {
        object: root,
        children: Vec::new(),
    };
    // Depth-first with an explicit stack of (path of child indexes, entries still to place).
    let mut stack: Vec<(Vec<usize>, std::vec::IntoIter<ObjMetadata>)> =
        vec![(Vec::new(), entries.into_iter())];
    while let Some((path, mut rest)) = stack.pop() {
        let Some(object) = rest.next() else { continue };
        stack.push((path.clone(), rest));
        if compact && !is_flux_object(&object) {
            continue;
        }
        let parent = path.iter().fold(&mut node, |n, &i| &mut n.children[i]);
        parent.children.push(Node {
            object: object.clone(),
            children: Vec::new(),
        });
        let index = parent.children.len() - 1;
        if is_kustomization(&object)
            && path.len() < MAX_DEPTH
            && seen.insert(object.clone())
            && let Some(children) = inventory(client, &object.namespace, &object.name).await?
        {
            let mut child_path = path;
            child_path.push(index);
            stack.push((child_path, children.into_iter()));
        }
    }
    Ok(node)
}

/// The tree drawn with box characters, as flux draws it.
fn draw(node: &Node) -> String {
    let mut out = format!("{}\n", node.object);
    draw_children(&node.children, "", &mut out);
    out
}

fn draw_children(children: &[Node], prefix: &str, out: &mut String) {
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&child.object.to_string());
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        draw_children(&child.children, &deeper, out);
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let What::Kustomization {
        name,
        compact,
        output,
    } = &args.what;
    let namespace = &args.cluster.namespace;
    block_on(async {
        let client = args.cluster.client().await?;
        let root = ObjMetadata {
            namespace: namespace.clone(),
            name: name.clone(),
            group: keys::KUSTOMIZE_GROUP.to_owned(),
            kind: "Kustomization".to_owned(),
        };
        let tree = grow(&client, root, *compact).await?;
        let text = match output {
            Output::Tree => draw(&tree),
            Output::Json => format!("{:#}\n", tree.to_json()),
            Output::Yaml => ferry_yaml::to_string(&tree.to_json()),
        };
        #[allow(clippy::print_stdout)]
        {
            print!("{text}");
        }
        Ok(ExitCode::SUCCESS)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> ObjMetadata {
        ObjMetadata::parse(id).expect("valid id")
    }

    #[test]
    fn draws_nested_trees_like_flux() {
        let tree = Node {
            object: meta("flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization"),
            children: vec![
                Node {
                    object: meta("_apps__Namespace"),
                    children: vec![],
                },
                Node {
                    object: meta("flux-system_child_kustomize.toolkit.fluxcd.io_Kustomization"),
                    children: vec![Node {
                        object: meta("apps_web__ConfigMap"),
                        children: vec![],
                    }],
                },
                Node {
                    object: meta("apps_web_apps_Deployment"),
                    children: vec![],
                },
            ],
        };
        assert_eq!(
            draw(&tree),
            "Kustomization/flux-system/apps\n\
             ├── Namespace/apps\n\
             ├── Kustomization/flux-system/child\n\
             │   └── ConfigMap/apps/web\n\
             └── Deployment/apps/web\n"
        );
        let json = tree.to_json();
        assert_eq!(json["resource"]["GroupKind"]["Kind"], "Kustomization");
        assert_eq!(
            json["resources"][1]["resources"][0]["resource"]["Name"],
            "web"
        );
        assert!(json["resources"][0].get("resources").is_none());
    }
}
