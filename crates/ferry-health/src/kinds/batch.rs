//! batch/v1 Job and CronJob. A Job is judged by its Complete / Failed / Suspended conditions as
//! gitops-engine does; a CronJob by whether its last scheduled run succeeded.

use crate::object::Object;
use crate::rules::{Entry, Verdict, core, degraded, healthy, progressing, suspended};
use crate::time::Timestamp;

pub const RULES: &[Entry] = &[
    core("batch", "Job", job),
    core("batch", "CronJob", cron_job),
];

fn job(obj: &Object<'_>) -> Option<Verdict> {
    let mut complete = false;
    let mut failed = false;
    let mut is_suspended = false;
    let mut failure_message = "";
    let mut message = "";
    for c in obj.conditions().iter() {
        match c.kind {
            "Failed" => {
                failed = true;
                complete = true;
                failure_message = c.message;
            }
            "Complete" => {
                complete = true;
                message = c.message;
            }
            // A resumed Job keeps its Suspended condition with status False: only a true one
            // ends the Job's progress.
            "Suspended" if c.is_true() => {
                complete = true;
                message = c.message;
                is_suspended = true;
            }
            _ => {}
        }
    }
    if !complete {
        progressing(message)
    } else if failed {
        degraded(failure_message)
    } else if is_suspended {
        suspended(message)
    } else {
        healthy(message)
    }
}

/// A CronJob is healthy unless its last scheduled run finished without success; a suspended
/// CronJob stays Healthy, as in Argo CD (suspending is a normal way to park one).
fn cron_job(obj: &Object<'_>) -> Option<Verdict> {
    if obj.flag(&["spec", "suspend"]) {
        return healthy("CronJob is Suspended");
    }
    let last_schedule = obj.str(&["status", "lastScheduleTime"]);
    let last_success = obj.str(&["status", "lastSuccessfulTime"]);
    let running = !obj.list(&["status", "active"]).is_empty();
    let Some(last_schedule) = last_schedule else {
        return healthy("CronJob has not been scheduled yet");
    };
    if running {
        return healthy("The job is running. Its last execution may not have been successful");
    }
    let Some(last_success) = last_success else {
        return healthy("The CronJob never completed successfully. It may not be healthy");
    };
    match (
        Timestamp::parse(last_schedule),
        Timestamp::parse(last_success),
    ) {
        (Some(scheduled), Some(succeeded)) if scheduled > succeeded => {
            degraded("CronJob has not completed its last execution successfully")
        }
        _ => healthy("CronJob has completed its last execution successfully"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use serde_json::json;

    #[test]
    fn a_resumed_job_is_running_again() {
        let value = json!({"apiVersion": "batch/v1", "kind": "Job", "status": {"active": 1, "conditions": [
            {"type": "Suspended", "status": "False", "reason": "JobResumed", "message": "Job resumed"}]}});
        let obj = Object::new(&value);
        assert_eq!(job(&obj).map(|v| v.status), Some(Status::Progressing));
    }
}
