//! `report.json`: the report document, serialised as is (pretty, keys in declaration order,
//! maps sorted), followed by a newline.

use anyhow::Result;

use super::{Document, Renderer};

pub struct Json;

impl Renderer for Json {
    fn file(&self) -> String {
        "report.json".into()
    }

    fn render(&self, doc: &Document) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(&doc.report)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
