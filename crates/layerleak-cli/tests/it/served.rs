//! Committed fixtures served by the scripted registry, so `layerleak audit` runs over them: every
//! fixture holding an OCI image layout (layout directories and Docker 25+ archives, damaged ones
//! included) becomes the repository `fx/<fixture path>`, one tag per manifest of its
//! `index.json`. The others (legacy archives, bare layers, a cut `manifest.json`) have no
//! manifest to serve.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::root;
use crate::registry::{scripted_registry, Route};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Request paths and their answers.
type Routes = Vec<(String, Route)>;

/// `index.json` and the blobs of a layout directory or of an archive holding one; `None` without
/// an `index.json`. A damaged archive gives the members read before the damage.
fn layout_files(path: &Path) -> TestResult<Option<HashMap<String, Vec<u8>>>> {
    let mut files = HashMap::new();
    if path.is_dir() {
        files.insert("index.json".to_string(), std::fs::read(path.join("index.json"))?);
        for e in std::fs::read_dir(path.join("blobs/sha256"))? {
            let e = e?;
            files.insert(
                format!("blobs/sha256/{}", e.file_name().to_string_lossy()),
                std::fs::read(e.path())?,
            );
        }
        return Ok(Some(files));
    }
    let mut archive = tar::Archive::new(std::fs::File::open(path)?);
    let Ok(entries) = archive.entries() else { return Ok(None) };
    for entry in entries {
        let Ok(mut entry) = entry else { break };
        let name = entry.path()?.to_string_lossy().to_string();
        if name == "index.json" || name.starts_with("blobs/sha256/") {
            let mut body = Vec::new();
            if entry.read_to_end(&mut body).is_err() {
                break;
            }
            files.insert(name, body);
        }
    }
    Ok(files.contains_key("index.json").then_some(files))
}

/// The routes of one repository and its tags.
fn repo_routes(repo: &str, files: &HashMap<String, Vec<u8>>) -> TestResult<(Routes, Vec<String>)> {
    let index: Value = serde_json::from_slice(&files["index.json"])?;
    let mut routes = Vec::new();
    let mut tags = Vec::new();
    for (i, d) in index["manifests"].as_array().cloned().unwrap_or_default().iter().enumerate() {
        let (Some(digest), Some(media_type)) = (d["digest"].as_str(), d["mediaType"].as_str()) else {
            continue;
        };
        let Some(body) = files.get(&format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))) else {
            continue;
        };
        let tag = format!("t{i}");
        routes.push((format!("/v2/{repo}/manifests/{tag}"), Route::json(body.clone(), media_type)));
        tags.push(tag);
    }
    for (name, body) in files {
        let Some(hex) = name.strip_prefix("blobs/sha256/") else { continue };
        // A child manifest is asked for by digest and must come with its own media type.
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let media_type = parsed
            .as_ref()
            .and_then(|v| v["mediaType"].as_str())
            .unwrap_or("application/octet-stream")
            .to_string();
        let route = Route::json(body.clone(), &media_type);
        routes.push((format!("/v2/{repo}/blobs/sha256:{hex}"), route.clone()));
        routes.push((format!("/v2/{repo}/manifests/sha256:{hex}"), route));
    }
    routes.push((
        format!("/v2/{repo}/tags/list"),
        Route::json(serde_json::to_vec(&json!({"name": repo, "tags": tags}))?, "application/json"),
    ));
    Ok((routes, tags))
}

/// Serves every servable fixture of `fixtures` (paths relative to the workspace root); returns
/// the registry's `http://host:port` and the fixtures served.
pub fn serve(fixtures: &[String]) -> TestResult<(String, Vec<String>)> {
    let mut routes = HashMap::new();
    let mut repos = Vec::new();
    let mut served = Vec::new();
    for fixture in fixtures {
        let Some(files) = layout_files(&root().join(fixture))? else { continue };
        let name = fixture.trim_start_matches("testdata/fixtures/");
        let repo = format!("fx/{}", name.to_lowercase());
        let (r, tags) = repo_routes(&repo, &files)?;
        if tags.is_empty() {
            continue;
        }
        routes.extend(r);
        repos.push(repo);
        served.push(fixture.clone());
    }
    routes.insert(
        "/v2/_catalog".into(),
        Route::json(serde_json::to_vec(&json!({"repositories": repos}))?, "application/json"),
    );
    let port = scripted_registry(routes)?;
    Ok((format!("http://127.0.0.1:{port}"), served))
}
