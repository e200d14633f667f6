use chrono::{DateTime, Utc};
use serde::Serialize;

/// One line of the aggregate list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub aggregate_type: Option<String>,
    pub events: u64,
    pub first_timestamp: Option<DateTime<Utc>>,
    pub last_timestamp: Option<DateTime<Utc>>,
    pub snapshots: u64,
}
