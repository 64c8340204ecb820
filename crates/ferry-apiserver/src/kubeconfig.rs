//! Kubeconfig files pointing at the embedded server.

use base64::Engine;

/// A kubeconfig with one cluster, user and context, all named `ferry`.
pub fn render(url: &str, ca_pem: Option<&str>, token: &str) -> String {
    let cluster = match ca_pem {
        Some(ca) => format!(
            "    certificate-authority-data: {}\n    server: {url}\n",
            base64::engine::general_purpose::STANDARD.encode(ca)
        ),
        None => format!("    server: {url}\n"),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: ferry\n  cluster:\n{cluster}users:\n- name: ferry\n  user:\n    token: {token}\ncontexts:\n- name: ferry\n  context:\n    cluster: ferry\n    user: ferry\n    namespace: default\ncurrent-context: ferry\npreferences: {{}}\n"
    )
}
