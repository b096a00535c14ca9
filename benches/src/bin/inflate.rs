//! `inflate IMAGE [--threads N]`: the raw-inflate floor of an image, for `run-scale.sh`.
//!
//! IMAGE is a bench image directory (holding `planted.json`) or an OCI image layout directory.
//! Prints the seconds to inflate the largest layer alone and all layers in parallel on N threads
//! (default 2), each blob read and inflated to nothing with flate2 (zlib-rs backend).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use layerleak_benches::{blob_path, inflate, inflate_all, pool, BenchImage};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inflate: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut image = None;
    let mut threads = 2usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => {
                let v = args.next().ok_or("--threads needs a value")?;
                threads = v.parse().map_err(|_| format!("bad thread count {v:?}"))?;
            }
            "-h" | "--help" => {
                println!("usage: inflate IMAGE_DIR [--threads N]");
                return Ok(());
            }
            _ => image = Some(PathBuf::from(a)),
        }
    }
    let image = image.ok_or("usage: inflate IMAGE_DIR [--threads N]")?;
    let blobs = layer_blobs(&image)?;
    let sizes: Vec<u64> = blobs
        .iter()
        .map(|b| std::fs::metadata(b).map(|m| m.len()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", image.display()))?;
    let largest = sizes.iter().enumerate().max_by_key(|(_, s)| **s).map(|(i, _)| i).ok_or("no layers")?;

    let t = Instant::now();
    let one = inflate(&blobs[largest]).map_err(|e| format!("{}: {e}", blobs[largest].display()))?;
    let one_s = t.elapsed().as_secs_f64();

    let pool = pool(threads).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let all = pool.install(|| inflate_all(&blobs)).map_err(|e| e.to_string())?;
    let all_s = t.elapsed().as_secs_f64();

    println!("largest_layer_seconds {one_s:.3} bytes {one} MBps {:.1}", one as f64 / 1e6 / one_s.max(1e-9));
    println!(
        "all_layers_seconds {all_s:.3} threads {threads} layers {} bytes {all} MBps {:.1}",
        blobs.len(),
        all as f64 / 1e6 / all_s.max(1e-9)
    );
    Ok(())
}

/// Layer blobs of a bench image directory or of an OCI layout (first manifest of `index.json`).
fn layer_blobs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.join("planted.json").is_file() {
        let img = BenchImage::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        return Ok(img.layer_blobs());
    }
    let read_json = |p: PathBuf| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let index = read_json(dir.join("index.json"))?;
    let manifest = index["manifests"][0]["digest"].as_str().ok_or("index.json: no manifest digest")?;
    let manifest = read_json(blob_path(dir, manifest))?;
    let layers = manifest["layers"].as_array().ok_or("manifest: no layers")?;
    layers
        .iter()
        .map(|l| l["digest"].as_str().map(|d| blob_path(dir, d)).ok_or_else(|| "layer without digest".into()))
        .collect()
}
