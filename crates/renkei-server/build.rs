//! Embeds the web client: every file of `web/dist` (built with `npm ci && npm run build` in
//! `web/`) becomes a static table in `web_assets.rs`, with a gzip copy of the text files. Without
//! `web/dist` the table is empty and the server explains how to build the client, so building
//! the Rust side never requires Node.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        walk(&dist, &mut files);
    } else if web.is_dir() {
        // Rerun once `web/dist` appears.
        println!("cargo:rerun-if-changed={}", web.display());
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
    files.sort();
    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (i, file) in files.iter().enumerate() {
        let rel = file.strip_prefix(&dist).expect("inside dist");
        let url = format!(
            "/{}",
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        );
        let bytes = fs::read(file).expect("read web/dist file");
        let gzip = if compressible(&url) && bytes.len() > 512 {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
            encoder.write_all(&bytes).expect("gzip");
            let packed = encoder.finish().expect("gzip");
            let path = out_dir.join(format!("asset-{i}.gz"));
            fs::write(&path, packed).expect("write gzip copy");
            format!("Some(include_bytes!({:?}))", path.display().to_string())
        } else {
            "None".to_owned()
        };
        table.push_str(&format!(
            "    Asset {{ path: {url:?}, body: include_bytes!({:?}), gzip: {gzip} }},\n",
            file.display().to_string()
        ));
    }
    table.push_str("];\n");
    fs::write(out_dir.join("web_assets.rs"), table).expect("write web_assets.rs");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read web/dist") {
        let path = entry.expect("web/dist entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn compressible(url: &str) -> bool {
    [
        ".html",
        ".js",
        ".css",
        ".svg",
        ".json",
        ".webmanifest",
        ".txt",
    ]
    .iter()
    .any(|ext| url.ends_with(ext))
}
