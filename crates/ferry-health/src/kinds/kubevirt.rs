//! KubeVirt (`kubevirt.io`): a VirtualMachine reports a `printableStatus` (what `kubectl get vm`
//! shows) and a `Paused` condition; a VirtualMachineInstance reports the `phase` of the running
//! guest. A stopped or paused machine is Suspended: it is where its owner put it.

use crate::object::Object;
use crate::rules::{Entry, Verdict, degraded, ecosystem, healthy, progressing, suspended};

pub const RULES: &[Entry] = &[
    ecosystem("kubevirt.io", "VirtualMachine", virtual_machine),
    ecosystem(
        "kubevirt.io",
        "VirtualMachineInstance",
        virtual_machine_instance,
    ),
];

const NO_STATUS: &str = "No status available";

fn paused(obj: &Object<'_>) -> bool {
    obj.conditions().get("Paused").is_some_and(|c| c.is_true())
}

fn virtual_machine(obj: &Object<'_>) -> Option<Verdict> {
    let Some(state) = obj.str(&["status", "printableStatus"]) else {
        return progressing(NO_STATUS);
    };
    if paused(obj) {
        return suspended(state);
    }
    match state {
        "Running" => healthy(state),
        "Stopped" | "Paused" => suspended(state),
        "Starting"
        | "Provisioning"
        | "Migrating"
        | "Stopping"
        | "Terminating"
        | "WaitingForVolumeBinding"
        | "WaitingForReceiver" => progressing(state),
        _ => degraded(state),
    }
}

fn virtual_machine_instance(obj: &Object<'_>) -> Option<Verdict> {
    let Some(phase) = obj.str(&["status", "phase"]) else {
        return progressing(NO_STATUS);
    };
    if paused(obj) {
        return suspended("VMI was paused by user");
    }
    match phase {
        "Running" => healthy(phase),
        "Succeeded" => suspended(phase),
        "Failed" => degraded(phase),
        _ => progressing(phase),
    }
}
