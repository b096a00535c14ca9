#![warn(missing_docs)]
//! C ABI over the layerleak library.
//!
//! Opaque handles with `_new`/`_free` pairs, integer status codes plus a thread-local
//! [`layerleak_last_error`] message, callbacks with a `void *user_data`. Every entry point checks
//! its pointers and catches panics, so no Rust panic ever unwinds into C. Strings the library
//! returns are freed with [`layerleak_string_free`], never with `free()`.
//!
//! Threads: a scanner handle may be moved between threads, but must not be used by two threads at
//! once, nor from inside its own finding callback; give each thread its own handle. The callback
//! runs on the thread that called the scan function. [`layerleak_last_error`] is per thread.
//!
//! ABI stability: within a major version, functions and status codes are only added, never
//! changed or removed; handles stay opaque; the finding JSON follows the report schema version
//! it carries (`"schema"` in the report, documented in the README).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString, OsStr};
use std::io::Read;
use std::ops::ControlFlow;
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use layerleak::image::Platform;
use layerleak::report::{ErrorRecord, Finding, Report};
use layerleak::scan::{Scanner, ScannerBuilder, Sink};

/// Success: the scan read everything.
pub const LAYERLEAK_OK: c_int = 0;
/// The scan ran, but parts of the input could not be read; findings from the rest were delivered.
/// [`layerleak_last_error`] describes the first problem.
pub const LAYERLEAK_PARTIAL: c_int = 1;
/// The finding callback returned non-zero and the scan stopped early; findings after that one
/// were not delivered. Takes precedence over [`LAYERLEAK_PARTIAL`].
pub const LAYERLEAK_STOPPED: c_int = 2;
/// A required pointer argument was NULL.
pub const LAYERLEAK_ERR_NULL: c_int = -1;
/// An argument was invalid (not UTF-8, unknown platform, bad rules file).
pub const LAYERLEAK_ERR_INVALID: c_int = -2;
/// The input could not be opened or read at all.
pub const LAYERLEAK_ERR_SCAN: c_int = -3;
/// An internal error (a caught panic). The handle stays usable.
pub const LAYERLEAK_ERR_INTERNAL: c_int = -4;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_error(msg: impl Into<String>) {
    let msg = msg.into().replace('\0', "\\0");
    let c = CString::new(msg).unwrap_or_default();
    // `try_with`: during thread teardown the slot may be gone; losing the message beats a panic.
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = Some(c));
}

fn clear_error() {
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = None);
}

/// Runs `f`, turning a panic into [`LAYERLEAK_ERR_INTERNAL`].
fn guard(f: impl FnOnce() -> c_int) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(_) => {
            set_error("internal error (panic caught at the C boundary)");
            LAYERLEAK_ERR_INTERNAL
        }
    }
}

/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, c_int> {
    if p.is_null() {
        set_error(format!("{what} is NULL"));
        return Err(LAYERLEAK_ERR_NULL);
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| {
        set_error(format!("{what} is not UTF-8"));
        LAYERLEAK_ERR_INVALID
    })
}

/// A path argument: any bytes but NUL, not necessarily UTF-8 (Unix paths are bytes).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn path_arg<'a>(p: *const c_char, what: &str) -> Result<&'a Path, c_int> {
    if p.is_null() {
        set_error(format!("{what} is NULL"));
        return Err(LAYERLEAK_ERR_NULL);
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Ok(Path::new(OsStr::from_bytes(bytes)))
}

/// A scanner and its options. Opaque to C.
pub struct LayerleakScanner {
    /// The options (and rules) the setters change: the one copy of them.
    builder: ScannerBuilder,
    /// Built from `builder` at the first scan after a change.
    built: Option<Scanner>,
}

impl LayerleakScanner {
    fn scanner(&mut self) -> Result<&Scanner, c_int> {
        if self.built.is_none() {
            let s = self.builder.clone().build().map_err(|e| {
                set_error(e.to_string());
                LAYERLEAK_ERR_INVALID
            })?;
            self.built = Some(s);
        }
        self.built.as_ref().ok_or(LAYERLEAK_ERR_INTERNAL)
    }

    /// Applies one builder setter to the options.
    fn set(&mut self, f: impl FnOnce(ScannerBuilder) -> ScannerBuilder) {
        self.builder = f(std::mem::take(&mut self.builder));
    }
}

/// Creates a scanner with the built-in rules and default options. Free it with
/// [`layerleak_scanner_free`]. Returns NULL only on an internal error.
#[no_mangle]
pub extern "C" fn layerleak_scanner_new() -> *mut LayerleakScanner {
    catch_unwind(|| Box::into_raw(Box::new(LayerleakScanner { builder: ScannerBuilder::new(), built: None })))
        .unwrap_or(std::ptr::null_mut())
}

/// Frees a scanner. NULL is allowed and does nothing.
///
/// # Safety
/// `scanner` is NULL or a pointer returned by [`layerleak_scanner_new`], not freed before.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_free(scanner: *mut LayerleakScanner) {
    if !scanner.is_null() {
        // SAFETY: the pointer came from Box::into_raw in layerleak_scanner_new.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(scanner) })));
    }
}

/// Applies `f` to the scanner behind `scanner`, dropping the compiled scanner so the next scan
/// rebuilds it with the new options.
///
/// Every caller is an `unsafe extern "C"` entry point whose contract is that `scanner` is NULL or a
/// live handle from [`layerleak_scanner_new`].
fn with_options(
    scanner: *mut LayerleakScanner,
    f: impl FnOnce(&mut LayerleakScanner) -> Result<(), c_int>,
) -> c_int {
    guard(|| {
        clear_error();
        // SAFETY: the caller promises a live handle or NULL.
        let Some(s) = (unsafe { scanner.as_mut() }) else {
            set_error("scanner is NULL");
            return LAYERLEAK_ERR_NULL;
        };
        s.built = None;
        match f(s) {
            Ok(()) => LAYERLEAK_OK,
            Err(code) => code,
        }
    })
}

/// Print secrets in findings (`1`) or only their redacted form (`0`, the default).
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_show_secrets(
    scanner: *mut LayerleakScanner,
    on: c_int,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.keep_secrets(on != 0));
        Ok(())
    })
}

/// Keep findings that offline validation proves invalid (`1`); default `0`.
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_include_invalid(
    scanner: *mut LayerleakScanner,
    on: c_int,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.include_invalid(on != 0));
        Ok(())
    })
}

/// Also list packaged findings (`1`): those in files exactly as a package database of the image
/// records them. Default `0`: counted in the report's `stats.findings_packaged`, not listed.
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_include_packaged(
    scanner: *mut LayerleakScanner,
    on: c_int,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.include_packaged(on != 0));
        Ok(())
    })
}

/// Check findings against the image's package databases (`1`, the default) or not (`0`: no
/// database is read and no finding is packaged).
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_package_triage(
    scanner: *mut LayerleakScanner,
    on: c_int,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.skip_package_triage(on == 0));
        Ok(())
    })
}

/// Use the built-in rules (`1`, the default) or only added ones (`0`).
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_builtin_rules(
    scanner: *mut LayerleakScanner,
    on: c_int,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.builtin_rules(on != 0));
        Ok(())
    })
}

/// Worker threads; 0 (the default) uses every core.
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_threads(
    scanner: *mut LayerleakScanner,
    threads: u32,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.threads(threads as usize));
        Ok(())
    })
}

/// Bytes scanned per file (default `UINT64_MAX`: every byte); the rest of a larger file is
/// skipped and listed in the report's notes.
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_max_file_bytes(
    scanner: *mut LayerleakScanner,
    bytes: u64,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.limits_with(|l| l.max_file_bytes = bytes));
        Ok(())
    })
}

/// Raises the entropy floor of generic rules to `bits` per byte (0 to 8); a negative value
/// restores the default (each rule's own floor). NaN is rejected.
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_min_entropy(
    scanner: *mut LayerleakScanner,
    bits: f64,
) -> c_int {
    with_options(scanner, |s| {
        if bits.is_nan() || bits > 8.0 {
            set_error(format!("min entropy {bits} is not between 0 and 8 bits per byte"));
            return Err(LAYERLEAK_ERR_INVALID);
        }
        s.set(|b| b.min_entropy((bits >= 0.0).then_some(bits)));
        Ok(())
    })
}

/// Decompressed bytes read from one layer before it is cut short and reported as over the limit
/// (default 64 GiB; the bound on a gzip bomb).
///
/// # Safety
/// `scanner` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_set_max_layer_bytes(
    scanner: *mut LayerleakScanner,
    bytes: u64,
) -> c_int {
    with_options(scanner, |s| {
        s.set(|b| b.limits_with(|l| l.max_layer_bytes = bytes));
        Ok(())
    })
}

/// Adds a platform (`linux/arm64`) to scan from multi-platform images; none added scans all.
///
/// # Safety
/// `scanner` is NULL or a live handle; `platform` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_add_platform(
    scanner: *mut LayerleakScanner,
    platform: *const c_char,
) -> c_int {
    with_options(scanner, |s| {
        // SAFETY: forwarded caller promise.
        let p = unsafe { str_arg(platform, "platform") }?;
        let parsed = Platform::parse(p).ok_or_else(|| {
            set_error(format!("not a platform: {p:?} (expected os/arch[/variant])"));
            LAYERLEAK_ERR_INVALID
        })?;
        s.set(|b| b.platform(parsed));
        Ok(())
    })
}

/// Adds rules from a TOML text (layerleak or gitleaks format). Invalid rules fail here, with the
/// rule and the problem in [`layerleak_last_error`].
///
/// # Safety
/// `scanner` is NULL or a live handle; `toml` and `origin` are NULL or NUL-terminated strings
/// (`origin` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn layerleak_scanner_add_rules_toml(
    scanner: *mut LayerleakScanner,
    toml: *const c_char,
    origin: *const c_char,
) -> c_int {
    with_options(scanner, |s| {
        // SAFETY: forwarded caller promise.
        let text = unsafe { str_arg(toml, "toml") }?;
        let origin = if origin.is_null() {
            "rules"
        } else {
            // SAFETY: forwarded caller promise.
            unsafe { str_arg(origin, "origin") }?
        };
        let rules = layerleak::detect::RuleSet::from_toml(text, origin).map_err(|e| {
            set_error(e.to_string());
            LAYERLEAK_ERR_INVALID
        })?;
        s.set(|b| b.rules(rules));
        Ok(())
    })
}

/// Called once per finding with the finding as a JSON object (NUL-terminated UTF-8, valid only
/// during the call: copy what you keep) and the caller's `user_data`. Return 0 to go on, non-zero
/// to stop the scan (the scan function then returns [`LAYERLEAK_STOPPED`]). Runs on the thread
/// that called the scan function; it must not call into the same scanner handle.
pub type LayerleakFindingCallback =
    Option<unsafe extern "C" fn(finding_json: *const c_char, user_data: *mut c_void) -> c_int>;

struct CallbackSink {
    cb: LayerleakFindingCallback,
    user_data: *mut c_void,
    /// The first problem the scan sent, the last error of a stopped scan.
    first_error: Option<String>,
}

impl CallbackSink {
    fn new(cb: LayerleakFindingCallback, user_data: *mut c_void) -> CallbackSink {
        CallbackSink { cb, user_data, first_error: None }
    }
}

/// The callback returned non-zero: the scan ends there and returns this.
struct Stopped;

impl Sink for CallbackSink {
    type Error = Stopped;

    fn finding(&mut self, f: &Finding) -> Result<ControlFlow<()>, Stopped> {
        let Some(cb) = self.cb else { return Ok(ControlFlow::Continue(())) };
        // Serializing a finding cannot fail (string keys, finite floats), and JSON escapes NUL.
        let Ok(json) = serde_json::to_string(f) else { return Ok(ControlFlow::Continue(())) };
        let Ok(c) = CString::new(json) else { return Ok(ControlFlow::Continue(())) };
        // SAFETY: the callback and user_data come from the caller, who promises they are valid.
        if unsafe { cb(c.as_ptr(), self.user_data) } != 0 {
            Err(Stopped)
        } else {
            Ok(ControlFlow::Continue(()))
        }
    }

    fn error(&mut self, error: &ErrorRecord) -> Result<(), Stopped> {
        self.first_error.get_or_insert_with(|| error.message.clone());
        Ok(())
    }
}

/// The status code of a finished scan; sets the last error to the first problem, if any.
fn status_of(report: &Report) -> c_int {
    let first = report.errors.first();
    if let Some(e) = first {
        set_error(e.message.clone());
    }
    match first {
        Some(_) if report.images.is_empty() => LAYERLEAK_ERR_SCAN,
        Some(_) => LAYERLEAK_PARTIAL,
        None => LAYERLEAK_OK,
    }
}

/// The status code of a scan that pushed findings to `sink`: [`LAYERLEAK_STOPPED`] when its
/// callback stopped it (the last error then names the first problem sent before, if any).
fn status_of_pushed(scanned: Result<Report, Stopped>, sink: CallbackSink) -> c_int {
    match scanned {
        Ok(report) => status_of(&report),
        Err(Stopped) => {
            if let Some(message) = sink.first_error {
                set_error(message);
            }
            LAYERLEAK_STOPPED
        }
    }
}

/// Scans a docker-save archive, OCI layout directory or layer tarball, calling `callback` for
/// every finding. Returns [`LAYERLEAK_OK`], [`LAYERLEAK_PARTIAL`], [`LAYERLEAK_STOPPED`] or a
/// negative error code; [`LAYERLEAK_ERR_SCAN`] when nothing could be read (a missing file). The
/// path is taken as bytes and need not be UTF-8.
///
/// # Safety
/// `scanner` is NULL or a live handle; `path` NULL or a NUL-terminated string; `callback` NULL
/// or a function safe to call with `user_data` from this thread.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scan_path(
    scanner: *mut LayerleakScanner,
    path: *const c_char,
    callback: LayerleakFindingCallback,
    user_data: *mut c_void,
) -> c_int {
    guard(|| {
        clear_error();
        // SAFETY: caller promise.
        let Some(s) = (unsafe { scanner.as_mut() }) else {
            set_error("scanner is NULL");
            return LAYERLEAK_ERR_NULL;
        };
        // SAFETY: caller promise.
        let path = match unsafe { path_arg(path, "path") } {
            Ok(p) => p,
            Err(code) => return code,
        };
        let scanner = match s.scanner() {
            Ok(sc) => sc,
            Err(code) => return code,
        };
        let mut sink = CallbackSink::new(callback, user_data);
        let scanned = scanner.scan_path_with(path, &mut sink);
        status_of_pushed(scanned, sink)
    })
}

/// Scans an image read from an open file descriptor (a pipe or a file; it is read from its
/// current offset to its end, not closed: the caller keeps ownership). The stream is copied to an
/// anonymous temporary file first, since archives are read out of order; prefer
/// [`layerleak_scan_path`] when the input is a file. Otherwise as [`layerleak_scan_path`].
///
/// # Safety
/// As [`layerleak_scan_path`]; `fd` is an open descriptor for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scan_fd(
    scanner: *mut LayerleakScanner,
    fd: c_int,
    callback: LayerleakFindingCallback,
    user_data: *mut c_void,
) -> c_int {
    guard(|| {
        clear_error();
        // SAFETY: caller promise.
        let Some(s) = (unsafe { scanner.as_mut() }) else {
            set_error("scanner is NULL");
            return LAYERLEAK_ERR_NULL;
        };
        if fd < 0 {
            set_error(format!("invalid file descriptor {fd}"));
            return LAYERLEAK_ERR_INVALID;
        }
        // SAFETY: the caller promises `fd` is open for the call; we duplicate it so closing our
        // copy leaves theirs open.
        let owned = match unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }.try_clone_to_owned() {
            Ok(o) => o,
            Err(e) => {
                set_error(format!("cannot duplicate file descriptor {fd}: {e}"));
                return LAYERLEAK_ERR_INVALID;
            }
        };
        let mut file = std::fs::File::from(owned);
        let scanner = match s.scanner() {
            Ok(sc) => sc,
            Err(code) => return code,
        };
        let mut sink = CallbackSink::new(callback, user_data);
        let scanned = scanner.scan_reader(&format!("fd:{fd}"), &mut file as &mut dyn Read, &mut sink);
        status_of_pushed(scanned, sink)
    })
}

/// Scans like [`layerleak_scan_path`] and stores the whole JSON report (schema 1) in
/// `*report_json`, to be freed with [`layerleak_string_free`].
///
/// # Safety
/// As [`layerleak_scan_path`]; `report_json` is NULL or a valid pointer to write to.
#[no_mangle]
pub unsafe extern "C" fn layerleak_scan_path_report(
    scanner: *mut LayerleakScanner,
    path: *const c_char,
    report_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        clear_error();
        if report_json.is_null() {
            set_error("report_json is NULL");
            return LAYERLEAK_ERR_NULL;
        }
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *report_json = std::ptr::null_mut() };
        // SAFETY: caller promise.
        let Some(s) = (unsafe { scanner.as_mut() }) else {
            set_error("scanner is NULL");
            return LAYERLEAK_ERR_NULL;
        };
        // SAFETY: caller promise.
        let path = match unsafe { path_arg(path, "path") } {
            Ok(p) => p,
            Err(code) => return code,
        };
        let scanner = match s.scanner() {
            Ok(sc) => sc,
            Err(code) => return code,
        };
        let report = scanner.scan_path(path);
        let json = match serde_json::to_string(&report).map(CString::new) {
            Ok(Ok(c)) => c,
            _ => {
                set_error("cannot serialize the report");
                return LAYERLEAK_ERR_INTERNAL;
            }
        };
        // SAFETY: checked non-NULL above.
        unsafe { *report_json = json.into_raw() };
        status_of(&report)
    })
}

/// Frees a string returned by this library. NULL is allowed.
///
/// # Safety
/// `s` is NULL or a string returned by this library and not freed before.
#[no_mangle]
pub unsafe extern "C" fn layerleak_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the string came from CString::into_raw in this library.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { CString::from_raw(s) })));
    }
}

/// The last error message of this thread, or NULL. Valid until the next call into the library
/// on this thread; do not free it.
#[no_mangle]
pub extern "C" fn layerleak_last_error() -> *const c_char {
    let get = || {
        LAST_ERROR
            .try_with(|e| e.borrow().as_ref().map_or(std::ptr::null(), |c| c.as_ptr()))
            .unwrap_or(std::ptr::null())
    };
    catch_unwind(get).unwrap_or(std::ptr::null())
}

/// The library version, e.g. `"0.1.0"`. Static; do not free it.
#[no_mangle]
pub extern "C" fn layerleak_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let p = layerleak_last_error();
        assert!(!p.is_null(), "no last error set");
        // SAFETY: non-NULL pointers from layerleak_last_error are NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn null_handles_and_arguments_are_errors_not_crashes() {
        // SAFETY: NULL is allowed everywhere.
        unsafe {
            assert_eq!(layerleak_scanner_set_threads(std::ptr::null_mut(), 1), LAYERLEAK_ERR_NULL);
            assert!(last_error().contains("scanner is NULL"));
            let path = c"x.tar";
            let code = layerleak_scan_path(std::ptr::null_mut(), path.as_ptr(), None, std::ptr::null_mut());
            assert_eq!(code, LAYERLEAK_ERR_NULL);
            let s = layerleak_scanner_new();
            assert!(!s.is_null());
            assert_eq!(
                layerleak_scan_path(s, std::ptr::null(), None, std::ptr::null_mut()),
                LAYERLEAK_ERR_NULL
            );
            assert!(last_error().contains("path is NULL"));
            assert_eq!(
                layerleak_scan_path_report(s, path.as_ptr(), std::ptr::null_mut()),
                LAYERLEAK_ERR_NULL
            );
            assert_eq!(layerleak_scanner_add_platform(s, std::ptr::null()), LAYERLEAK_ERR_NULL);
            assert_eq!(layerleak_scan_fd(s, -1, None, std::ptr::null_mut()), LAYERLEAK_ERR_INVALID);
            layerleak_scanner_free(s);
            layerleak_scanner_free(std::ptr::null_mut());
            layerleak_string_free(std::ptr::null_mut());
        }
    }

    #[test]
    fn invalid_options_are_rejected_with_a_message() {
        // SAFETY: a live handle and NUL-terminated strings.
        unsafe {
            let s = layerleak_scanner_new();
            assert_eq!(layerleak_scanner_add_platform(s, c"linux".as_ptr()), LAYERLEAK_ERR_INVALID);
            assert!(last_error().contains("not a platform"));
            assert_eq!(layerleak_scanner_add_platform(s, c"linux/arm64".as_ptr()), LAYERLEAK_OK);
            assert!(layerleak_last_error().is_null(), "a success clears the last error");
            let bad = c"[[rules]\nid = ";
            assert_eq!(
                layerleak_scanner_add_rules_toml(s, bad.as_ptr(), c"bad.toml".as_ptr()),
                LAYERLEAK_ERR_INVALID
            );
            assert!(last_error().contains("bad.toml"), "{}", last_error());
            let not_utf8 = [0xffu8, 0xfe, 0];
            let code = layerleak_scanner_add_platform(s, not_utf8.as_ptr().cast());
            assert_eq!(code, LAYERLEAK_ERR_INVALID);
            layerleak_scanner_free(s);
        }
    }

    #[test]
    fn missing_file_is_a_scan_error_and_the_report_is_still_returned() {
        // SAFETY: a live handle, NUL-terminated strings, a writable out pointer.
        unsafe {
            let s = layerleak_scanner_new();
            let path = c"/nonexistent/layerleak-missing.tar";
            assert_eq!(layerleak_scan_path(s, path.as_ptr(), None, std::ptr::null_mut()), LAYERLEAK_ERR_SCAN);
            assert!(last_error().contains("layerleak-missing.tar"), "{}", last_error());
            let mut out: *mut c_char = std::ptr::null_mut();
            assert_eq!(layerleak_scan_path_report(s, path.as_ptr(), &mut out), LAYERLEAK_ERR_SCAN);
            assert!(!out.is_null());
            let json: serde_json::Value =
                serde_json::from_str(&CStr::from_ptr(out).to_string_lossy()).expect("report JSON");
            assert_eq!(json["schema"], 1);
            assert_eq!(json["errors"].as_array().map(Vec::len), Some(1));
            layerleak_string_free(out);
            layerleak_scanner_free(s);
        }
    }

    #[test]
    fn entropy_floor_is_validated() {
        // SAFETY: a live handle.
        unsafe {
            let s = layerleak_scanner_new();
            assert_eq!(layerleak_scanner_set_min_entropy(s, f64::NAN), LAYERLEAK_ERR_INVALID);
            assert!(last_error().contains("min entropy"));
            assert_eq!(layerleak_scanner_set_min_entropy(s, 9.0), LAYERLEAK_ERR_INVALID);
            assert_eq!(layerleak_scanner_set_min_entropy(s, 4.5), LAYERLEAK_OK);
            assert_eq!((*s).scanner().map(|b| b.min_entropy()), Ok(Some(4.5)));
            assert_eq!(layerleak_scanner_set_min_entropy(s, -1.0), LAYERLEAK_OK);
            assert_eq!((*s).scanner().map(|b| b.min_entropy()), Ok(None));
            layerleak_scanner_free(s);
        }
    }

    #[test]
    fn non_utf8_path_is_passed_through_as_bytes() {
        // SAFETY: a live handle and a NUL-terminated byte string.
        unsafe {
            let s = layerleak_scanner_new();
            let path = b"/nonexistent/caf\xe9.tar\0";
            let code = layerleak_scan_path(s, path.as_ptr().cast(), None, std::ptr::null_mut());
            assert_eq!(code, LAYERLEAK_ERR_SCAN, "opened and not found, not rejected as invalid");
            assert!(last_error().contains("caf"), "{}", last_error());
            layerleak_scanner_free(s);
        }
    }

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: the version is a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(layerleak_version()) };
        assert_eq!(v.to_str().ok(), Some(env!("CARGO_PKG_VERSION")));
    }
}
