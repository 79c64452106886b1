//! The web app's static files (`web/`), served at `/` where no API route matches: locally what
//! CloudFront's default behaviour (the S3 bucket) is in AWS, on the same origin as the API.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

#[derive(Debug, Clone)]
pub struct Site {
    dir: PathBuf,
    files: ServeDir,
}

impl Site {
    /// The files under `dir`, or none if there is no such directory.
    pub fn at(dir: &Path) -> Option<Site> {
        dir.is_dir().then(|| Site {
            dir: dir.to_path_buf(),
            files: ServeDir::new(dir),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A GET or HEAD for a file (a directory: its index.html); None when there is no such file,
    /// so the caller answers as API Gateway would.
    pub async fn serve(&self, parts: &Parts) -> Option<Response> {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return None;
        }
        let mut request = Request::new(Body::empty());
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.headers_mut() = parts.headers.clone();
        // ServeDir is cheap to clone (its settings behind an Arc); `try_call` wants it mutable.
        let response = match self.files.clone().try_call(request).await {
            Ok(r) => r,
            // try_call answers a missing file (or a path through a file) as an error.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return None
            }
            Err(e) => {
                tracing::warn!("{}: {e}", parts.uri.path());
                return Some(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            }
        };
        if response.status() == StatusCode::NOT_FOUND {
            return None;
        }
        let mut response = response.map(Body::new);
        // Ask again every time (an ETag makes that cheap): an edited file shows on reload, as
        // the upload's `Cache-Control: no-cache` does behind CloudFront.
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        Some(response)
    }
}
