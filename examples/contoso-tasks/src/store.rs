//! In-memory data: projects, tasks, comments, webhook subscriptions and export jobs.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A project: a named container of tasks.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Project {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A task inside a project.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Task {
    pub id: String,
    pub project_id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    pub completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Value of the `X-Contoso-Client` header on the request that created the task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Change sequence number of the last create/update (the polling cursor).
    #[serde(skip)]
    pub seq: u64,
}

/// A comment on a task.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Comment {
    pub id: String,
    pub task_id: String,
    pub text: String,
    pub created_at: String,
}

/// Task events a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Event {
    TaskCreated,
    TaskCompleted,
}

impl Event {
    /// Parses the wire name of an event.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "taskCreated" => Some(Self::TaskCreated),
            "taskCompleted" => Some(Self::TaskCompleted),
            _ => None,
        }
    }

    /// The wire name of the event.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::TaskCreated => "taskCreated",
            Self::TaskCompleted => "taskCompleted",
        }
    }
}

/// A webhook subscription.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Hook {
    pub id: String,
    pub callback_url: String,
    pub event: Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    pub created_at: String,
}

/// A long-running export job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: String,
    /// Status polls still to be answered with 202 before the job reports completion.
    pub polls_remaining: u32,
    /// The export produced when the job was started.
    pub result: Value,
}

/// Kinds of entity, each with its own id prefix and counter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Project,
    Task,
    Comment,
    Hook,
    Job,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Project => "proj-",
            Self::Task => "task-",
            Self::Comment => "cmt-",
            Self::Hook => "hook-",
            Self::Job => "job-",
        }
    }

    /// Human name used in error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Project => "Project",
            Self::Task => "Task",
            Self::Comment => "Comment",
            Self::Hook => "Webhook subscription",
            Self::Job => "Job",
        }
    }
}

/// All state of one running API.
#[derive(Debug, Default)]
pub(crate) struct Store {
    counters: [u64; 5],
    /// Global change sequence: bumped on every task create/update.
    pub seq: u64,
    pub projects: BTreeMap<u64, Project>,
    pub tasks: BTreeMap<u64, Task>,
    pub comments: BTreeMap<u64, Comment>,
    pub hooks: BTreeMap<u64, Hook>,
    pub jobs: BTreeMap<u64, Job>,
}

impl Store {
    /// Allocates a new id of `kind`: the numeric key and its string form.
    pub(crate) fn next_id(&mut self, kind: Kind) -> (u64, String) {
        let c = &mut self.counters[kind as usize];
        *c += 1;
        (*c, format!("{}{}", kind.prefix(), *c))
    }

    /// Advances the change sequence and returns the new value.
    pub(crate) fn bump_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// Parses an id string of `kind` into its numeric key.
pub(crate) fn parse_id(kind: Kind, id: &str) -> Option<u64> {
    id.strip_prefix(kind.prefix())?.parse().ok()
}
