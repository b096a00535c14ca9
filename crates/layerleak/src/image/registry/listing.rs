//! Listings (OCI distribution spec v1.1, "Listing tags"; Docker registry API "Catalog"),
//! following `Link: <…>; rel="next"` pagination (RFC 8288).
//!
//! # Security
//!
//! A registry chooses the next page: links are only followed back to the same registry (so
//! credentials go nowhere else), a link seen twice ends the listing with an error, and the
//! number of pages and the size of each are bounded.

use std::collections::HashSet;

use super::client::{pull_scope, read_bounded};
use super::reference::check_repository;
use super::Registry;
use crate::error::{At, Error, Result};

/// Pages followed when listing, so a registry cannot keep a listing going forever.
const MAX_PAGES: usize = 100_000;

impl Registry {
    /// `/v2/_catalog`, every page (`Link: <…>; rel="next"`).
    ///
    /// # Errors
    ///
    /// [`Error::Registry`] when a page cannot be fetched, [`Error::Json`] when one is not valid,
    /// [`Error::Limit`] when one is over [`super::RegistryOptions::max_manifest_bytes`].
    pub fn catalog(&self) -> Result<Vec<String>> {
        let at = At::image(self.host().to_string());
        let first = format!("{}/v2/_catalog{}", self.base(), self.page_query());
        self.paginate(&at, first, "registry:catalog:*", "repositories")
    }

    /// `/v2/<repo>/tags/list`, every page (`Link: <…>; rel="next"`).
    ///
    /// # Errors
    ///
    /// As [`Registry::catalog`]; 404 when the repository is unknown.
    pub fn tags(&self, repo: &str) -> Result<Vec<String>> {
        let at = At::image(format!("{}/{repo}", self.host()));
        check_repository(repo).map_err(|why| self.error(&at, why, None))?;
        let first = format!("{}/v2/{repo}/tags/list{}", self.base(), self.page_query());
        self.paginate(&at, first, &pull_scope(repo), "tags")
    }

    fn page_query(&self) -> String {
        self.options().page_size.map(|n| format!("?n={n}")).unwrap_or_default()
    }

    fn paginate(&self, at: &At, first: String, scope: &str, field: &str) -> Result<Vec<String>> {
        let mut url = first;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let what = format!("listing page {}", url.strip_prefix(self.base()).unwrap_or(&url));
            let resp = self.get(at, &url, Some("application/json"), scope, &what)?;
            let next = resp.all("Link").iter().find_map(|l| next_link(l));
            let bytes = read_bounded(resp, self.options().max_manifest_bytes, at, &what)?;
            let page: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes)
                .map_err(|source| Error::Json { at: at.clone(), what: what.clone(), source })?;
            match page.get(field) {
                Some(serde_json::Value::Array(items)) => {
                    for item in items {
                        let name = item.as_str().ok_or_else(|| {
                            self.error(at, format!("{what}: `{field}` holds a non-string"), None)
                        })?;
                        out.push(name.to_string());
                    }
                }
                Some(serde_json::Value::Null) | None => {}
                Some(_) => return Err(self.error(at, format!("{what}: `{field}` is not a list"), None)),
            }
            let Some(next) = next else { return Ok(out) };
            url = self.resolve_link(at, &next)?;
            if !seen.insert(url.clone()) {
                return Err(self.error(at, format!("pagination loops back to {next}"), None));
            }
        }
        Err(self.error(at, format!("listing has more than {MAX_PAGES} pages"), None))
    }

    /// A `Link` target as an absolute URL on this registry; anything else is refused, since
    /// following it would send our credentials elsewhere.
    fn resolve_link(&self, at: &At, link: &str) -> Result<String> {
        if link.starts_with('/') && !link.starts_with("//") {
            return Ok(format!("{}{link}", self.base()));
        }
        match link.strip_prefix(self.base()) {
            Some(rest) if rest.starts_with('/') => Ok(link.to_string()),
            _ => Err(self.error(at, format!("pagination link {link:?} leaves the registry"), None)),
        }
    }
}

/// RFC 8288 `Link` header: the target of the first `rel="next"` link.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let is_next = params.split(';').filter_map(|p| p.trim().split_once('=')).any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("rel") && v.trim().trim_matches('"').split(' ').any(|r| r == "next")
        });
        is_next.then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::registry::scripted::{answer, scripted};
    use crate::image::registry::RegistryOptions;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://h/a>; rel="prev", <https://h/b>; rel=next"#).as_deref(),
            Some("https://h/b")
        );
        assert_eq!(next_link(r#"<https://h/a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn links_must_stay_on_the_registry() -> Result<()> {
        let r = Registry::new("http://127.0.0.1:5000", &RegistryOptions::default())?;
        let at = At::none();
        assert_eq!(r.resolve_link(&at, "/v2/_catalog?n=1")?, "http://127.0.0.1:5000/v2/_catalog?n=1");
        assert_eq!(r.resolve_link(&at, "http://127.0.0.1:5000/v2/x")?, "http://127.0.0.1:5000/v2/x");
        for bad in ["//evil/v2", "http://127.0.0.1:50001/v2", "https://evil/v2", "v2/relative"] {
            assert!(r.resolve_link(&at, bad).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn tag_list_pagination_with_null_page() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let (addr, server) = scripted(vec![
            answer(
                "200 OK",
                "Link: </v2/a/tags/list?n=2&last=b>; rel=\"next\"\r\n",
                r#"{"name":"a","tags":["a","b"]}"#,
            ),
            answer(
                "200 OK",
                "Link: </v2/a/tags/list?n=2&last=c>; rel=\"next\"\r\n",
                r#"{"name":"a","tags":["c"]}"#,
            ),
            answer("200 OK", "", r#"{"name":"a","tags":null}"#),
        ])?;
        let opts = RegistryOptions { page_size: Some(2), ..RegistryOptions::default() };
        let r = Registry::new(&format!("http://{addr}"), &opts)?;
        assert_eq!(r.tags("a")?, vec!["a", "b", "c"]);
        let seen = server.join().map_err(|_| "server panicked")?;
        assert!(seen[0].starts_with("GET /v2/a/tags/list?n=2 "), "{}", seen[0]);
        assert!(seen[2].starts_with("GET /v2/a/tags/list?n=2&last=c "), "{}", seen[2]);
        Ok(())
    }
}
