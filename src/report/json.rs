//! `report.json`: the report document, serialised as is (pretty, keys in declaration order,
//! maps sorted), followed by a newline.

use anyhow::Result;

use super::model::Report;

pub fn render(report: &Report) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(report)?;
    bytes.push(b'\n');
    Ok(bytes)
}
